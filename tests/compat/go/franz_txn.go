// The txn.group-transact scenario: franz-go's GroupTransactSession, consume-transform-produce in
// a consumer group with Kafka transactions (KIP-98, KIP-447). Only franz-go has it; sarama skips.
//
// 90 records go into a 3-partition input topic. A session in a new group reads them
// read_committed (with RequireStableFetchOffsets), and for each poll begins a transaction,
// produces every value transformed ("-x") to the output topic, acknowledged, and ends it: the
// first transaction with TryAbort on purpose, the others with TryCommit. An abort resets the
// session to the group's committed offsets, so those records are read and transformed again.
// Then:
//   - a read_committed reader of the output sees each transformed value exactly once;
//   - a read_uncommitted reader sees those plus the aborted transaction's records (they are in the
//     log, hidden only by the abort);
//   - the group's committed offsets (sent inside the transactions) sum to 90.
package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const transactRecords = 90

func groupTransact(ctx context.Context, l lib) error {
	f, ok := l.(*franz)
	if !ok {
		return skipError{"GroupTransactSession is franz-go's"}
	}
	in, out, group := name("in"), name("out"), name("group")
	for _, t := range []string{in, out} {
		if err := f.createTopic(ctx, t, 3, nil); err != nil {
			return fmt.Errorf("CreateTopics %s: %v", t, err)
		}
	}
	vals := values("t", transactRecords, "")
	if err := f.produce(ctx, in, vals, "all", "none", -1, false); err != nil {
		return err
	}

	s, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(f.seed),
		kgo.TransactionalID(name("txn")),
		kgo.TransactionTimeout(10*time.Second),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(in),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.RequestTimeoutOverhead(5*time.Second),
	)
	if err != nil {
		return err
	}
	defer s.Close()
	committed, aborted := 0, 0
	for committed < transactRecords {
		if ctx.Err() != nil {
			return fmt.Errorf("timed out with %d of %d records committed (%d aborted)", committed, transactRecords, aborted)
		}
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		fs := s.PollFetches(pctx)
		cancel()
		for _, e := range fs.Errors() {
			if ctx.Err() == nil && e.Err != context.DeadlineExceeded && e.Err != context.Canceled {
				return fmt.Errorf("fetch %s[%d]: %v", e.Topic, e.Partition, e.Err)
			}
		}
		var rs []*kgo.Record
		fs.EachRecord(func(r *kgo.Record) {
			rs = append(rs, &kgo.Record{Topic: out, Key: r.Key, Value: []byte(string(r.Value) + "-x")})
		})
		if len(rs) == 0 {
			continue
		}
		if err := s.Begin(); err != nil {
			return fmt.Errorf("Begin: %v", err)
		}
		if err := s.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			return fmt.Errorf("produce in the transaction: %v", err)
		}
		try := kgo.TryCommit
		if aborted == 0 {
			try = kgo.TryAbort
		}
		done, err := s.End(ctx, try)
		if err != nil {
			return fmt.Errorf("End (commit %v): %v", bool(try), err)
		}
		switch {
		case try == kgo.TryAbort:
			aborted += len(rs)
		case done:
			committed += len(rs)
		}
		// a commit the session turned into an abort (a rebalance meanwhile) is read again
	}

	want := make([]string, len(vals))
	for i, v := range vals {
		want[i] = v + "-x"
	}
	got, err := f.readIsolated(ctx, out, kgo.ReadCommitted(), len(want))
	if err != nil {
		return err
	}
	if err := checkValues(got, want, "read_committed output"); err != nil {
		return err
	}
	if dups := duplicates(got); len(dups) > 0 {
		return fmt.Errorf("read_committed output holds duplicates, e.g. %v", dups[:1])
	}
	all, err := f.readIsolated(ctx, out, kgo.ReadUncommitted(), len(want)+aborted)
	if err != nil {
		return err
	}
	if len(all) != len(want)+aborted {
		return fmt.Errorf("read_uncommitted sees %d records, want %d committed + %d aborted", len(all), len(want), aborted)
	}
	offs, err := f.adm.FetchOffsets(ctx, group)
	if err != nil {
		return fmt.Errorf("OffsetFetch: %v", err)
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == in {
			sum += o.At
		}
	})
	if sum != transactRecords {
		return fmt.Errorf("the group's committed offsets sum to %d, want %d", sum, transactRecords)
	}
	return nil
}

// readIsolated reads topic from the start with isolation level iso until it has n values, then a
// little longer, so that a record too many shows too.
func (f *franz) readIsolated(ctx context.Context, topic string, iso kgo.IsolationLevel, n int) ([]string, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.seed), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(iso))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	got, err := poll(ctx, cl, n, time.Second)
	if err != nil {
		return got, err
	}
	if len(got) < n {
		return got, fmt.Errorf("read %d of %d records of %s", len(got), n, topic)
	}
	return got, nil
}

func duplicates(v []string) []string {
	s := append([]string(nil), v...)
	sort.Strings(s)
	var d []string
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] && (len(d) == 0 || d[len(d)-1] != s[i]) {
			d = append(d, s[i])
		}
	}
	return d
}
