// sarama adapter of the compat scenarios. sarama does not negotiate request versions: it uses
// the ones of its configured Kafka version, and this client keeps sarama's default (2.1.0), as an
// application that does not set Config.Version would.
package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

type saramaLib struct {
	addrs []string
	adm   sarama.ClusterAdmin
}

func saramaConfig() *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = "samsa-compat"
	c.Net.DialTimeout = 5 * time.Second
	c.Net.ReadTimeout = 10 * time.Second
	c.Net.WriteTimeout = 5 * time.Second
	c.Metadata.Retry.Max = 5
	c.Metadata.Retry.Backoff = 200 * time.Millisecond
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.Offsets.AutoCommit.Enable = false
	c.Consumer.Group.Session.Timeout = 10 * time.Second
	c.Consumer.Group.Heartbeat.Interval = time.Second
	c.Consumer.Return.Errors = true
	saramaSecurity(c)
	return c
}

func newSarama(seed string) (lib, error) {
	return &saramaLib{addrs: []string{seed}}, nil
}

func (s *saramaLib) admin() (sarama.ClusterAdmin, error) {
	if s.adm == nil {
		a, err := sarama.NewClusterAdmin(s.addrs, saramaConfig())
		if err != nil {
			return nil, err
		}
		s.adm = a
	}
	return s.adm, nil
}

func (s *saramaLib) close() {
	if s.adm != nil {
		s.adm.Close()
	}
}

func (s *saramaLib) metadata(ctx context.Context) error {
	cl, err := sarama.NewClient(s.addrs, saramaConfig())
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.RefreshMetadata(); err != nil {
		return err
	}
	if len(cl.Brokers()) == 0 {
		return fmt.Errorf("metadata lists no brokers")
	}
	return nil
}

func (s *saramaLib) produce(ctx context.Context, topic string, vals []string, acks, codec string, partition int32, idem bool) error {
	c := saramaConfig()
	c.Producer.Return.Successes = true
	c.Producer.Retry.Max = 5
	c.Producer.Retry.Backoff = 200 * time.Millisecond
	c.Producer.Timeout = 10 * time.Second
	c.Producer.RequiredAcks = map[string]sarama.RequiredAcks{"0": sarama.NoResponse, "1": sarama.WaitForLocal, "all": sarama.WaitForAll}[acks]
	c.Producer.Compression = map[string]sarama.CompressionCodec{"none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP,
		"snappy": sarama.CompressionSnappy, "lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD}[codec]
	if partition >= 0 {
		c.Producer.Partitioner = sarama.NewManualPartitioner
	}
	if idem {
		c.Producer.Idempotent = true
		c.Net.MaxOpenRequests = 1
	}
	p, err := sarama.NewSyncProducer(s.addrs, c)
	if err != nil {
		return err
	}
	defer p.Close()
	msgs := make([]*sarama.ProducerMessage, len(vals))
	for i, v := range vals {
		msgs[i] = &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(v), Value: sarama.StringEncoder(v)}
		if partition >= 0 {
			msgs[i].Partition = partition
		}
	}
	if err := p.SendMessages(msgs); err != nil {
		if pe, ok := err.(sarama.ProducerErrors); ok && len(pe) > 0 {
			return fmt.Errorf("delivery failed (%d): %w", len(pe), pe[0].Err)
		}
		return fmt.Errorf("delivery failed: %w", err)
	}
	return nil
}

func (s *saramaLib) partitions(ctx context.Context, topic string) ([]int32, error) {
	cl, err := sarama.NewClient(s.addrs, saramaConfig())
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var parts []int32
	err = waitUntil(ctx, "metadata for topic "+topic, func() (bool, error) {
		ps, err := cl.Partitions(topic)
		if err != nil || len(ps) == 0 {
			return false, err
		}
		parts = append([]int32(nil), ps...)
		sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
		return true, nil
	})
	return parts, err
}

func (s *saramaLib) read(ctx context.Context, topic string, n int, parts []int32, start int64) ([]string, error) {
	c, err := sarama.NewConsumer(s.addrs, saramaConfig())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	msgs := make(chan string, 1024)
	errs := make(chan error, 16)
	for _, p := range parts {
		pc, err := c.ConsumePartition(topic, p, start)
		if err != nil {
			return nil, fmt.Errorf("ConsumePartition %d: %v", p, err)
		}
		defer pc.Close()
		go func() {
			for m := range pc.Messages() {
				msgs <- string(m.Value)
			}
		}()
		go func() {
			for e := range pc.Errors() {
				errs <- e
			}
		}()
	}
	var got []string
	for len(got) < n {
		select {
		case v := <-msgs:
			got = append(got, v)
		case e := <-errs:
			return got, fmt.Errorf("fetch: %w", e)
		case <-ctx.Done():
			return got, nil
		}
	}
	return got, nil
}

// handler collects a consumer-group session's messages and its current assignment.
type handler struct {
	mu    sync.Mutex
	sess  sarama.ConsumerGroupSession
	parts map[int32]bool
	msgs  chan string
}

func (h *handler) Setup(sess sarama.ConsumerGroupSession) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sess = sess
	h.parts = map[int32]bool{}
	for _, ps := range sess.Claims() {
		for _, p := range ps {
			h.parts[p] = true
		}
	}
	return nil
}

func (h *handler) Cleanup(sarama.ConsumerGroupSession) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.parts = map[int32]bool{}
	return nil
}

func (h *handler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		sess.MarkMessage(m, "")
		if h.msgs != nil {
			select {
			case h.msgs <- string(m.Value):
			case <-sess.Context().Done():
				return nil
			}
		}
	}
	return nil
}

type saramaMember struct {
	cg     sarama.ConsumerGroup
	h      *handler
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	e      error
}

func (s *saramaLib) join(topic, group string, msgs chan string) (*saramaMember, error) {
	cg, err := sarama.NewConsumerGroup(s.addrs, group, saramaConfig())
	if err != nil {
		return nil, err
	}
	m := &saramaMember{cg: cg, h: &handler{msgs: msgs, parts: map[int32]bool{}}, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		for e := range cg.Errors() {
			m.mu.Lock()
			m.e = e
			m.mu.Unlock()
		}
	}()
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			if err := cg.Consume(ctx, []string{topic}, m.h); err != nil && ctx.Err() == nil {
				m.mu.Lock()
				m.e = err
				m.mu.Unlock()
				time.Sleep(200 * time.Millisecond)
			}
		}
	}()
	return m, nil
}

func (m *saramaMember) assigned() []int32 {
	m.h.mu.Lock()
	defer m.h.mu.Unlock()
	var r []int32
	for p := range m.h.parts {
		r = append(r, p)
	}
	return r
}

func (m *saramaMember) err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.e
}

func (m *saramaMember) close() {
	m.cancel()
	<-m.done
	m.cg.Close()
}

func (s *saramaLib) member(ctx context.Context, topic, group string) (groupMember, error) {
	return s.join(topic, group, nil)
}

func (s *saramaLib) groupConsume(ctx context.Context, topic, group string, n int, extra time.Duration, commit bool) ([]string, int64, error) {
	msgs := make(chan string, 1024)
	m, err := s.join(topic, group, msgs)
	if err != nil {
		return nil, 0, err
	}
	var got []string
	var end <-chan time.Time
	tick := time.NewTicker(200 * time.Millisecond) // the session's errors come while no message does
	defer tick.Stop()
loop:
	for {
		if len(got) >= n && end == nil {
			end = time.After(extra)
		}
		select {
		case v := <-msgs:
			got = append(got, v)
		case <-tick.C:
		case <-end:
			break loop
		case <-ctx.Done():
			break loop
		}
		if e := m.err(); e != nil && len(got) < n {
			m.close()
			return got, 0, e
		}
	}
	if commit {
		m.h.mu.Lock()
		sess := m.h.sess
		m.h.mu.Unlock()
		if sess != nil {
			sess.Commit()
		}
	}
	m.close()
	if !commit {
		return got, 0, nil
	}
	a, err := s.admin()
	if err != nil {
		return got, 0, err
	}
	resp, err := a.ListConsumerGroupOffsets(group, nil)
	if err != nil {
		return got, 0, fmt.Errorf("OffsetFetch: %v", err)
	}
	var sum int64
	for _, b := range resp.Blocks[topic] {
		if b.Err == sarama.ErrNoError && b.Offset > 0 {
			sum += b.Offset
		}
	}
	return got, sum, nil
}

func (s *saramaLib) createTopic(ctx context.Context, topic string, parts int32, configs map[string]string) error {
	a, err := s.admin()
	if err != nil {
		return err
	}
	c := map[string]*string{}
	for k, v := range configs {
		v := v
		c[k] = &v
	}
	return a.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: parts, ReplicationFactor: 1, ConfigEntries: c}, false)
}

func (s *saramaLib) topicPartitions(ctx context.Context, topic string) (int, error) {
	a, err := s.admin()
	if err != nil {
		return 0, err
	}
	md, err := a.DescribeTopics([]string{topic})
	if err != nil {
		return 0, err
	}
	for _, t := range md {
		if t.Name == topic && t.Err == sarama.ErrNoError {
			return len(t.Partitions), nil
		}
	}
	return 0, nil
}

func (s *saramaLib) topicConfig(ctx context.Context, topic, key string) (string, error) {
	a, err := s.admin()
	if err != nil {
		return "", err
	}
	es, err := a.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic})
	if err != nil {
		return "", err
	}
	for _, e := range es {
		if e.Name == key {
			return e.Value, nil
		}
	}
	return "", fmt.Errorf("no %s in DescribeConfigs (%d entries)", key, len(es))
}

func (s *saramaLib) alterTopicConfig(ctx context.Context, topic, key, value string) error {
	a, err := s.admin()
	if err != nil {
		return err
	}
	return a.AlterConfig(sarama.TopicResource, topic, map[string]*string{key: &value}, false)
}

func (s *saramaLib) addPartitions(ctx context.Context, topic string, total int) error {
	a, err := s.admin()
	if err != nil {
		return err
	}
	return a.CreatePartitions(topic, int32(total), nil, false)
}

func (s *saramaLib) deleteTopic(ctx context.Context, topic string) error {
	a, err := s.admin()
	if err != nil {
		return err
	}
	return a.DeleteTopic(topic)
}

func (s *saramaLib) listTopics(ctx context.Context) ([]string, error) {
	a, err := s.admin()
	if err != nil {
		return nil, err
	}
	ts, err := a.ListTopics()
	if err != nil {
		return nil, err
	}
	var names []string
	for n := range ts {
		names = append(names, n)
	}
	return names, nil
}

// ---- transactions ----

type saramaTxn struct{ p sarama.SyncProducer }

func (s *saramaLib) txn(ctx context.Context, txid string) (txnProducer, error) {
	c := saramaConfig()
	c.Producer.Return.Successes = true
	c.Producer.Idempotent = true
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Retry.Max = 5
	c.Producer.Retry.Backoff = 200 * time.Millisecond
	c.Producer.Transaction.ID = txid
	c.Producer.Transaction.Timeout = 60 * time.Second
	c.Net.MaxOpenRequests = 1
	p, err := sarama.NewSyncProducer(s.addrs, c) // InitProducerId happens here
	if err != nil {
		return nil, err
	}
	return &saramaTxn{p}, nil
}

func (t *saramaTxn) begin() error { return t.p.BeginTxn() }

func (t *saramaTxn) send(ctx context.Context, topic string, vals []string) error {
	msgs := make([]*sarama.ProducerMessage, len(vals))
	for i, v := range vals {
		msgs[i] = &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(v), Value: sarama.StringEncoder(v)}
	}
	if err := t.p.SendMessages(msgs); err != nil {
		return fmt.Errorf("delivery failed: %w", err)
	}
	return nil
}

func (t *saramaTxn) end(ctx context.Context, commit bool) error {
	if commit {
		return t.p.CommitTxn()
	}
	return t.p.AbortTxn()
}

func (t *saramaTxn) close() { t.p.Close() }

type saramaReader struct {
	c    sarama.Consumer
	pcs  []sarama.PartitionConsumer
	msgs chan string
	errs chan error
}

func (s *saramaLib) reader(ctx context.Context, topic string, parts []int32, committed bool) (isoReader, error) {
	c := saramaConfig()
	c.Consumer.IsolationLevel = sarama.ReadUncommitted
	if committed {
		c.Consumer.IsolationLevel = sarama.ReadCommitted
	}
	cons, err := sarama.NewConsumer(s.addrs, c)
	if err != nil {
		return nil, err
	}
	r := &saramaReader{c: cons, msgs: make(chan string, 1024), errs: make(chan error, 16)}
	for _, p := range parts {
		pc, err := cons.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			r.close()
			return nil, fmt.Errorf("ConsumePartition %d: %v", p, err)
		}
		r.pcs = append(r.pcs, pc)
		go func() {
			for m := range pc.Messages() {
				r.msgs <- string(m.Value)
			}
		}()
		go func() {
			for e := range pc.Errors() {
				r.errs <- e
			}
		}()
	}
	return r, nil
}

func (r *saramaReader) poll(ctx context.Context, d time.Duration) ([]string, error) {
	var got []string
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case v := <-r.msgs:
			got = append(got, v)
		case e := <-r.errs:
			return got, fmt.Errorf("fetch: %w", e)
		case <-t.C:
			return got, nil
		case <-ctx.Done():
			return got, nil
		}
	}
}

func (r *saramaReader) close() {
	for _, pc := range r.pcs {
		pc.Close()
	}
	r.c.Close()
}
