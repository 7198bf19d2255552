// franz-go adapter of the compat scenarios: kgo for producing and consuming, kadm for admin.
// franz-go negotiates versions from ApiVersions and is idempotent by default, so the plain produce
// scenarios turn idempotence off (acks 0/1 require it) and only the idempotent one keeps it.
package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

type franz struct {
	seed string
	cl   *kgo.Client // for admin and metadata
	adm  *kadm.Client
}

func newFranz(seed string) (lib, error) {
	cl, err := newClient(kgo.SeedBrokers(seed), kgo.RequestTimeoutOverhead(5*time.Second))
	if err != nil {
		return nil, err
	}
	return &franz{seed: seed, cl: cl, adm: kadm.NewClient(cl)}, nil
}

func (f *franz) close() { f.cl.Close() }

func (f *franz) metadata(ctx context.Context) error {
	m, err := f.adm.Metadata(ctx)
	if err != nil {
		return err
	}
	if len(m.Brokers) == 0 {
		return fmt.Errorf("metadata lists no brokers")
	}
	return nil
}

func (f *franz) produce(ctx context.Context, topic string, vals []string, acks, codec string, partition int32, idem bool) error {
	opts := []kgo.Opt{kgo.SeedBrokers(f.seed), kgo.AllowAutoTopicCreation(), kgo.ProducerLinger(5 * time.Millisecond)}
	switch acks {
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
	default:
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	}
	if !idem {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	c := map[string]kgo.CompressionCodec{"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(),
		"snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}[codec]
	opts = append(opts, kgo.ProducerBatchCompression(c))
	if partition >= 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	cl, err := newClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	rs := make([]*kgo.Record, len(vals))
	for i, v := range vals {
		rs[i] = &kgo.Record{Topic: topic, Key: []byte(v), Value: []byte(v), Partition: partition}
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		return fmt.Errorf("delivery failed: %w", err)
	}
	return nil
}

func (f *franz) partitions(ctx context.Context, topic string) ([]int32, error) {
	var parts []int32
	err := waitUntil(ctx, "metadata for topic "+topic, func() (bool, error) {
		td, err := f.adm.ListTopics(ctx, topic)
		if err != nil {
			return false, err
		}
		d, ok := td[topic]
		if !ok || d.Err != nil || len(d.Partitions) == 0 {
			return false, d.Err
		}
		parts = parts[:0]
		for p := range d.Partitions {
			parts = append(parts, p)
		}
		sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
		return true, nil
	})
	return parts, err
}

func poll(ctx context.Context, cl *kgo.Client, n int, extra time.Duration) ([]string, error) {
	var got []string
	var end time.Time
	for ctx.Err() == nil {
		if len(got) >= n {
			if end.IsZero() {
				end = time.Now().Add(extra)
			}
			if !time.Now().Before(end) {
				break
			}
		}
		pctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		fs := cl.PollFetches(pctx)
		cancel()
		for _, e := range fs.Errors() {
			if !errors.Is(e.Err, context.DeadlineExceeded) && !errors.Is(e.Err, context.Canceled) {
				return got, fmt.Errorf("fetch %s[%d]: %w", e.Topic, e.Partition, e.Err)
			}
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got, nil
}

func (f *franz) read(ctx context.Context, topic string, n int, parts []int32, start int64) ([]string, error) {
	offs := map[int32]kgo.Offset{}
	for _, p := range parts {
		offs[p] = kgo.NewOffset().At(start)
	}
	cl, err := newClient(kgo.SeedBrokers(f.seed), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offs}))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return poll(ctx, cl, n, 0)
}

func (f *franz) groupConsume(ctx context.Context, topic, group string, n int, extra time.Duration, commit bool) ([]string, int64, error) {
	cl, err := newClient(kgo.SeedBrokers(f.seed), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(),
		kgo.SessionTimeout(10*time.Second), kgo.HeartbeatInterval(time.Second))
	if err != nil {
		return nil, 0, err
	}
	defer cl.Close()
	got, err := poll(ctx, cl, n, extra)
	if err != nil || !commit {
		return got, 0, err
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		return got, 0, fmt.Errorf("commit: %v", err)
	}
	resps, err := f.adm.FetchOffsets(ctx, group)
	if err != nil {
		return got, 0, fmt.Errorf("OffsetFetch: %v", err)
	}
	var sum int64
	resps.Each(func(r kadm.OffsetResponse) {
		if r.Topic == topic && r.Err == nil && r.At > 0 {
			sum += r.At
		}
	})
	return got, sum, nil
}

type franzMember struct {
	cl     *kgo.Client
	mu     sync.Mutex
	parts  map[int32]bool
	e      error
	cancel context.CancelFunc
	done   chan struct{}
}

func (f *franz) member(ctx context.Context, topic, group string) (groupMember, error) {
	m := &franzMember{parts: map[int32]bool{}, done: make(chan struct{})}
	upd := func(add bool) func(context.Context, *kgo.Client, map[string][]int32) {
		return func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range a[topic] {
				if add {
					m.parts[p] = true
				} else {
					delete(m.parts, p)
				}
			}
		}
	}
	cl, err := newClient(kgo.SeedBrokers(f.seed), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(),
		kgo.SessionTimeout(10*time.Second), kgo.HeartbeatInterval(time.Second),
		kgo.OnPartitionsAssigned(upd(true)), kgo.OnPartitionsRevoked(upd(false)), kgo.OnPartitionsLost(upd(false)))
	if err != nil {
		return nil, err
	}
	m.cl = cl
	pctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		defer close(m.done)
		for pctx.Err() == nil {
			fs := cl.PollFetches(pctx)
			for _, e := range fs.Errors() {
				if !errors.Is(e.Err, context.Canceled) {
					m.mu.Lock()
					m.e = e.Err
					m.mu.Unlock()
				}
			}
		}
	}()
	return m, nil
}

func (m *franzMember) assigned() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var r []int32
	for p := range m.parts {
		r = append(r, p)
	}
	return r
}

func (m *franzMember) err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.e
}

func (m *franzMember) close() {
	m.cancel()
	<-m.done
	m.cl.Close()
}

func (f *franz) createTopic(ctx context.Context, topic string, parts int32, configs map[string]string) error {
	c := map[string]*string{}
	for k, v := range configs {
		v := v
		c[k] = &v
	}
	r, err := f.adm.CreateTopic(ctx, parts, 1, c, topic)
	if err != nil {
		return err
	}
	return r.Err
}

func (f *franz) topicPartitions(ctx context.Context, topic string) (int, error) {
	td, err := f.adm.ListTopics(ctx, topic)
	if err != nil {
		return 0, err
	}
	d, ok := td[topic]
	if !ok || d.Err != nil {
		return 0, nil
	}
	return len(d.Partitions), nil
}

func (f *franz) topicConfig(ctx context.Context, topic, key string) (string, error) {
	rcs, err := f.adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return "", err
	}
	for _, rc := range rcs {
		if rc.Err != nil {
			return "", rc.Err
		}
		for _, c := range rc.Configs {
			if c.Key == key && c.Value != nil {
				return *c.Value, nil
			}
		}
	}
	return "", fmt.Errorf("no %s in DescribeConfigs", key)
}

func (f *franz) alterTopicConfig(ctx context.Context, topic, key, value string) error {
	rs, err := f.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: key, Value: &value}}, topic)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

func (f *franz) addPartitions(ctx context.Context, topic string, total int) error {
	rs, err := f.adm.UpdatePartitions(ctx, total, topic)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

func (f *franz) deleteTopic(ctx context.Context, topic string) error {
	rs, err := f.adm.DeleteTopics(ctx, topic)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

func (f *franz) listTopics(ctx context.Context) ([]string, error) {
	td, err := f.adm.ListTopics(ctx)
	if err != nil {
		return nil, err
	}
	return td.Names(), nil
}

// ---- transactions ----

type franzTxn struct{ cl *kgo.Client }

func (f *franz) txn(ctx context.Context, txid string) (txnProducer, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.seed), kgo.TransactionalID(txid),
		kgo.TransactionTimeout(60*time.Second), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return nil, err
	}
	return &franzTxn{cl}, nil
}

func (t *franzTxn) begin() error { return t.cl.BeginTransaction() }

func (t *franzTxn) send(ctx context.Context, topic string, vals []string) error {
	rs := make([]*kgo.Record, len(vals))
	for i, v := range vals {
		rs[i] = &kgo.Record{Topic: topic, Key: []byte(v), Value: []byte(v)}
	}
	if err := t.cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		return fmt.Errorf("delivery failed: %w", err)
	}
	return nil
}

func (t *franzTxn) end(ctx context.Context, commit bool) error {
	return t.cl.EndTransaction(ctx, kgo.TransactionEndTry(commit))
}

func (t *franzTxn) close() { t.cl.Close() }

type franzReader struct{ cl *kgo.Client }

func (f *franz) reader(ctx context.Context, topic string, parts []int32, committed bool) (isoReader, error) {
	offs := map[int32]kgo.Offset{}
	for _, p := range parts {
		offs[p] = kgo.NewOffset().AtStart()
	}
	iso := kgo.ReadUncommitted()
	if committed {
		iso = kgo.ReadCommitted()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.seed), kgo.FetchIsolationLevel(iso),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offs}))
	if err != nil {
		return nil, err
	}
	return &franzReader{cl}, nil
}

func (r *franzReader) poll(ctx context.Context, d time.Duration) ([]string, error) {
	var got []string
	end := time.Now().Add(d)
	for ctx.Err() == nil && time.Now().Before(end) {
		pctx, cancel := context.WithDeadline(ctx, end)
		fs := r.cl.PollFetches(pctx)
		cancel()
		for _, e := range fs.Errors() {
			if !errors.Is(e.Err, context.DeadlineExceeded) && !errors.Is(e.Err, context.Canceled) {
				return got, fmt.Errorf("fetch %s[%d]: %w", e.Topic, e.Partition, e.Err)
			}
		}
		fs.EachRecord(func(rec *kgo.Record) { got = append(got, string(rec.Value)) })
	}
	return got, nil
}

func (r *franzReader) close() { r.cl.Close() }
