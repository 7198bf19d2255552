// Compat client for the Go Kafka libraries franz-go (--lib franz) and sarama (--lib sarama).
//
// It speaks the matrix runner's protocol (tests/compat/py/compat_common.py): --bootstrap B
// --prefix P --scenarios s1,s2 prints a JSON line when each scenario starts and one with its
// result; --version prints the library's version. The scenarios (tests/compat/README.md) are
// written once here against the small lib interface; franz.go and sarama.go adapt each library.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"
)

// lib is what a scenario needs from a client library. ctx carries the scenario deadline.
type lib interface {
	metadata(ctx context.Context) error
	// produce sends vals (key = value) and waits for every acknowledgement; partition -1 = any.
	produce(ctx context.Context, topic string, vals []string, acks, codec string, partition int32, idempotent bool) error
	partitions(ctx context.Context, topic string) ([]int32, error)
	// read returns up to n values from the partitions, starting at offset start (no group).
	read(ctx context.Context, topic string, n int, parts []int32, start int64) ([]string, error)
	// groupConsume joins group, reads n values (then extra for a while), commits if asked and
	// returns the sum of the group's committed offsets for the topic.
	groupConsume(ctx context.Context, topic, group string, n int, extra time.Duration, commit bool) ([]string, int64, error)
	member(ctx context.Context, topic, group string) (groupMember, error)
	createTopic(ctx context.Context, topic string, parts int32, configs map[string]string) error
	topicPartitions(ctx context.Context, topic string) (int, error)
	topicConfig(ctx context.Context, topic, key string) (string, error)
	alterTopicConfig(ctx context.Context, topic, key, value string) error
	addPartitions(ctx context.Context, topic string, total int) error
	deleteTopic(ctx context.Context, topic string) error
	listTopics(ctx context.Context) ([]string, error)
	// txn returns a transactional producer for txid (KIP-98), initialised; nil, skipError if the
	// library has none.
	txn(ctx context.Context, txid string) (txnProducer, error)
	// reader consumes parts from the beginning, read_committed or not, until closed.
	reader(ctx context.Context, topic string, parts []int32, committed bool) (isoReader, error)
	close()
}

// txnProducer is one transactional producer.
type txnProducer interface {
	begin() error
	// send produces vals (key = value) in the current transaction and waits for their acks.
	send(ctx context.Context, topic string, vals []string) error
	// end commits or aborts the current transaction.
	end(ctx context.Context, commit bool) error
	close()
}

// isoReader is a running consumer; poll returns what arrived within d.
type isoReader interface {
	poll(ctx context.Context, d time.Duration) ([]string, error)
	close()
}

// groupMember is a consumer that stays in a group until closed.
type groupMember interface {
	assigned() []int32
	err() error
	close()
}

type skipError struct{ msg string }

func (e skipError) Error() string { return e.msg }

var (
	prefix   string
	scenario string
	timeout  = 20 * time.Second
)

func name(what string) string {
	s := prefix + "-" + strings.ReplaceAll(scenario, ".", "-")
	if what != "" {
		s += "-" + what
	}
	return s
}

func values(p string, n int, sfx string) []string {
	v := make([]string, n)
	for i := range v {
		v[i] = fmt.Sprintf("%s%d%s", p, i, sfx)
	}
	return v
}

func checkValues(got, want []string, what string) error {
	a, b := append([]string(nil), got...), append([]string(nil), want...)
	sort.Strings(a)
	sort.Strings(b)
	if strings.Join(a, ",") == strings.Join(b, ",") {
		return nil
	}
	seen := map[string]bool{}
	for _, g := range got {
		seen[g] = true
	}
	var missing []string
	for _, w := range want {
		if !seen[w] {
			missing = append(missing, w)
		}
	}
	if len(missing) > 2 {
		missing = missing[:2]
	}
	return fmt.Errorf("%s: got %d values, want %d (missing e.g. %v)", what, len(got), len(want), missing)
}

func waitUntil(ctx context.Context, what string, f func() (bool, error)) error {
	var last error
	for {
		ok, err := f()
		if ok {
			return nil
		}
		var se skipError
		if errors.As(err, &se) {
			return err
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("timed out waiting for %s: %v", what, last)
			}
			return fmt.Errorf("timed out waiting for %s", what)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func equal(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

func head(v []string) string {
	if len(v) > 3 {
		return fmt.Sprintf("%v... (%d)", v[:3], len(v))
	}
	return fmt.Sprintf("%v", v)
}

var produceRe = regexp.MustCompile(`^produce\.acks(0|1|all)\.(none|gzip|snappy|lz4|zstd)$`)

func run(ctx context.Context, l lib, s string) error {
	if sec != nil {
		return secureRoundtrip(ctx, l)
	}
	if m := produceRe.FindStringSubmatch(s); m != nil {
		topic := name("")
		vals := values("v", 20, "-"+m[2])
		want := vals
		if m[1] == "0" { // see WARM in tests/compat/py/compat_common.py
			if err := l.produce(ctx, topic, []string{"w0"}, "all", "none", -1, false); err != nil {
				return err
			}
			want = append([]string{"w0"}, vals...)
		}
		if err := l.produce(ctx, topic, vals, m[1], m[2], -1, false); err != nil {
			return err
		}
		parts, err := l.partitions(ctx, topic)
		if err != nil {
			return err
		}
		got, err := l.read(ctx, topic, len(want), parts, 0)
		if err != nil {
			return err
		}
		return checkValues(got, want, "read back")
	}
	switch s {
	case "metadata":
		return l.metadata(ctx)
	case "fetch":
		topic, vals := name(""), values("f", 50, "")
		if err := l.produce(ctx, topic, vals, "all", "none", 0, false); err != nil {
			return err
		}
		got, err := l.read(ctx, topic, 50, []int32{0}, 0)
		if err != nil {
			return err
		}
		if !equal(got, vals) {
			return fmt.Errorf("from offset 0: got %s, want f0..f49 in order", head(got))
		}
		if got, err = l.read(ctx, topic, 25, []int32{0}, 25); err != nil {
			return err
		}
		if !equal(got, vals[25:]) {
			return fmt.Errorf("from offset 25 (inside a batch): got %s", head(got))
		}
		return nil
	case "group.join":
		topic, vals := name(""), values("g", 30, "")
		if err := l.produce(ctx, topic, vals, "all", "none", -1, false); err != nil {
			return err
		}
		got, _, err := l.groupConsume(ctx, topic, name("group"), 30, 0, false)
		if err != nil {
			return err
		}
		return checkValues(got, vals, "group consume")
	case "group.commit", "group.resume":
		topic, group, vals := name(""), name("group"), values("c", 30, "")
		if err := l.produce(ctx, topic, vals, "all", "none", -1, false); err != nil {
			return err
		}
		got, sum, err := l.groupConsume(ctx, topic, group, 30, 0, true)
		if err != nil {
			return err
		}
		if err := checkValues(got, vals, "group consume"); err != nil {
			return err
		}
		if sum != 30 {
			return fmt.Errorf("committed offsets sum to %d, want 30", sum)
		}
		if s == "group.commit" {
			return nil
		}
		second := values("b", 10, "")
		if err := l.produce(ctx, topic, second, "all", "none", -1, false); err != nil {
			return err
		}
		if got, _, err = l.groupConsume(ctx, topic, group, 10, time.Second, false); err != nil {
			return err
		}
		return checkValues(got, second, "resumed consume (only the 10 new messages)")
	case "group.rebalance":
		return rebalance(ctx, l)
	case "txn.group-transact":
		return groupTransact(ctx, l)
	case "admin.create", "admin.describe", "admin.alter", "admin.delete":
		return admin(ctx, l, s)
	case "idempotent":
		topic, vals := name(""), values("i", 50, "")
		if err := l.produce(ctx, topic, vals, "all", "none", 0, true); err != nil {
			return err
		}
		got, err := l.read(ctx, topic, 50, []int32{0}, 0)
		if err != nil {
			return err
		}
		if !equal(got, vals) {
			return fmt.Errorf("read back %s, want i0..i49 once each in order", head(got))
		}
		return nil
	case "txn.commit", "txn.abort", "txn.fence", "read_committed":
		return transactions(ctx, l, s)
	}
	return skipError{"scenario not implemented by this client"}
}

// readAll reads from the beginning at the isolation level until n values came and then settle.
func readAll(ctx context.Context, l lib, topic string, parts []int32, n int, committed bool) ([]string, error) {
	r, err := l.reader(ctx, topic, parts, committed)
	if err != nil {
		return nil, err
	}
	defer r.close()
	var got []string
	for len(got) < n && ctx.Err() == nil {
		v, err := r.poll(ctx, 200*time.Millisecond)
		if err != nil {
			return got, err
		}
		got = append(got, v...)
	}
	v, err := r.poll(ctx, 500*time.Millisecond) // anything that should not be there
	return append(got, v...), err
}

// transactions runs the four transaction scenarios (tests/compat/README.md).
func transactions(ctx context.Context, l lib, s string) error {
	topic, txid := name(""), name("tx")
	if err := l.produce(ctx, topic, []string{"seed"}, "all", "none", -1, false); err != nil {
		return err
	}
	parts, err := l.partitions(ctx, topic)
	if err != nil {
		return err
	}
	p, err := l.txn(ctx, txid)
	if err != nil {
		return err
	}
	defer p.close()
	switch s {
	case "txn.commit":
		vals := values("t", 20, "")
		if err := p.begin(); err != nil {
			return err
		}
		if err := p.send(ctx, topic, vals); err != nil {
			return err
		}
		if err := p.end(ctx, true); err != nil {
			return fmt.Errorf("commit: %v", err)
		}
		got, err := readAll(ctx, l, topic, parts, 21, true)
		if err != nil {
			return err
		}
		return checkValues(got, append(vals, "seed"), "read_committed after the commit")
	case "txn.abort":
		aborted, committed := values("a", 10, ""), values("c", 10, "")
		for i, vals := range [][]string{aborted, committed} {
			if err := p.begin(); err != nil {
				return err
			}
			if err := p.send(ctx, topic, vals); err != nil {
				return err
			}
			if err := p.end(ctx, i == 1); err != nil {
				return fmt.Errorf("end transaction %d: %v", i, err)
			}
		}
		got, err := readAll(ctx, l, topic, parts, 11, true)
		if err != nil {
			return err
		}
		if err := checkValues(got, append(committed, "seed"), "read_committed: only the committed transaction"); err != nil {
			return err
		}
		got, err = readAll(ctx, l, topic, parts, 21, false)
		if err != nil {
			return err
		}
		return checkValues(got, append(append(aborted, committed...), "seed"), "read_uncommitted: both transactions")
	case "txn.fence":
		winners := values("winner", 5, "")
		if err := p.begin(); err != nil {
			return err
		}
		if err := p.send(ctx, topic, values("zombie", 5, "")); err != nil {
			return err
		}
		b, err := l.txn(ctx, txid) // fences p
		if err != nil {
			return err
		}
		defer b.close()
		if err := b.begin(); err != nil {
			return err
		}
		if err := b.send(ctx, topic, winners); err != nil {
			return err
		}
		if err := b.end(ctx, true); err != nil {
			return fmt.Errorf("the new instance's commit: %v", err)
		}
		if err := p.end(ctx, true); err == nil {
			return fmt.Errorf("the fenced producer's commit succeeded")
		}
		got, err := readAll(ctx, l, topic, parts, 6, true)
		if err != nil {
			return err
		}
		return checkValues(got, append(winners, "seed"), "read_committed: only the new instance's records")
	default: // read_committed
		vals := values("o", 10, "")
		if err := p.begin(); err != nil {
			return err
		}
		if err := p.send(ctx, topic, vals); err != nil {
			return err
		}
		r, err := l.reader(ctx, topic, parts, true)
		if err != nil {
			return err
		}
		defer r.close()
		got, err := r.poll(ctx, 2*time.Second)
		if err != nil {
			return err
		}
		if !equal(got, []string{"seed"}) {
			return fmt.Errorf("read_committed saw %s before the commit", head(got))
		}
		if err := p.end(ctx, true); err != nil {
			return fmt.Errorf("commit: %v", err)
		}
		for len(got) < 11 && ctx.Err() == nil {
			v, err := r.poll(ctx, 200*time.Millisecond)
			if err != nil {
				return err
			}
			got = append(got, v...)
		}
		v, err := r.poll(ctx, 500*time.Millisecond)
		if err != nil {
			return err
		}
		return checkValues(append(got, v...), append(vals, "seed"), "read_committed after the commit")
	}
}

func rebalance(ctx context.Context, l lib) error {
	topic, group := name(""), name("group")
	if err := l.produce(ctx, topic, values("r", 6, ""), "all", "none", -1, false); err != nil {
		return err
	}
	parts, err := l.partitions(ctx, topic)
	if err != nil {
		return err
	}
	if len(parts) < 2 {
		return skipError{fmt.Sprintf("auto-created topic has %d partition(s); rebalance needs 2+", len(parts))}
	}
	a, err := l.member(ctx, topic, group)
	if err != nil {
		return err
	}
	defer a.close()
	if err := waitUntil(ctx, "first member's assignment", func() (bool, error) {
		return len(a.assigned()) > 0, a.err()
	}); err != nil {
		return err
	}
	b, err := l.member(ctx, topic, group)
	if err != nil {
		return err
	}
	defer b.close()
	return waitUntil(ctx, fmt.Sprintf("both members assigned disjoint partitions covering all %d", len(parts)),
		func() (bool, error) {
			for _, m := range []groupMember{a, b} {
				if m.err() != nil {
					return false, m.err()
				}
			}
			pa, pb := a.assigned(), b.assigned()
			seen := map[int32]int{}
			for _, p := range append(append([]int32(nil), pa...), pb...) {
				seen[p]++
			}
			if len(pa) == 0 || len(pb) == 0 || len(seen) != len(parts) {
				return false, nil
			}
			for _, c := range seen {
				if c != 1 {
					return false, nil
				}
			}
			return true, nil
		})
}

func admin(ctx context.Context, l lib, s string) error {
	topic := name("")
	if err := l.createTopic(ctx, topic, 2, map[string]string{"retention.ms": "604800000"}); err != nil {
		return fmt.Errorf("CreateTopics: %v", err)
	}
	n := 0
	if err := waitUntil(ctx, "topic in metadata", func() (bool, error) {
		var err error
		n, err = l.topicPartitions(ctx, topic)
		return n > 0, err
	}); err != nil {
		return err
	}
	if n != 2 {
		return fmt.Errorf("created topic has %d partitions, want 2", n)
	}
	switch s {
	case "admin.describe":
		v, err := l.topicConfig(ctx, topic, "retention.ms")
		if err != nil {
			return fmt.Errorf("DescribeConfigs: %v", err)
		}
		if v != "604800000" {
			return fmt.Errorf("retention.ms = %q, want 604800000", v)
		}
	case "admin.alter":
		if err := l.alterTopicConfig(ctx, topic, "retention.ms", "86400000"); err != nil {
			return fmt.Errorf("AlterConfigs: %v", err)
		}
		if err := waitUntil(ctx, "retention.ms=86400000 in DescribeConfigs", func() (bool, error) {
			v, err := l.topicConfig(ctx, topic, "retention.ms")
			return v == "86400000", err
		}); err != nil {
			return err
		}
		if err := l.addPartitions(ctx, topic, 3); err != nil {
			return fmt.Errorf("CreatePartitions: %v", err)
		}
		return waitUntil(ctx, "3 partitions", func() (bool, error) {
			n, err := l.topicPartitions(ctx, topic)
			return n == 3, err
		})
	case "admin.delete":
		if err := l.deleteTopic(ctx, topic); err != nil {
			return fmt.Errorf("DeleteTopics: %v", err)
		}
		return waitUntil(ctx, "topic gone from the topic list", func() (bool, error) {
			ts, err := l.listTopics(ctx)
			for _, t := range ts {
				if t == topic {
					return false, err
				}
			}
			return err == nil, err
		})
	}
	return nil
}

func emit(v any) {
	b, _ := json.Marshal(v)
	os.Stdout.Write(append(b, '\n'))
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:297] + "..."
	}
	return s
}

func modVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "?"
}

func main() {
	bootstrap := flag.String("bootstrap", "", "host:port")
	libName := flag.String("lib", "franz", "franz or sarama")
	flag.StringVar(&prefix, "prefix", fmt.Sprintf("compat-%d", time.Now().Unix()), "topic/group name prefix")
	list := flag.String("scenarios", "", "comma-separated scenarios")
	version := flag.Bool("version", false, "print the library version")
	flag.Parse()
	if v, err := strconv.ParseFloat(os.Getenv("COMPAT_SCENARIO_TIMEOUT"), 64); err == nil {
		timeout = time.Duration(v * float64(time.Second))
	}
	var mk func(string) (lib, error)
	switch *libName {
	case "franz":
		mk = newFranz
		if *version {
			fmt.Println("franz-go " + modVersion("github.com/twmb/franz-go"))
			return
		}
	case "sarama":
		mk = newSarama
		if *version {
			fmt.Println("sarama " + modVersion("github.com/IBM/sarama"))
			return
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown --lib", *libName)
		os.Exit(2)
	}
	for _, s := range strings.Split(*list, ",") {
		if s == "" {
			continue
		}
		scenario = s
		emit(map[string]string{"start": s})
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		status, reason := "pass", ""
		boot, err := *bootstrap, error(nil)
		sec = nil
		if strings.HasPrefix(s, "secure.") {
			boot, err = secureFor(s)
		}
		var l lib
		if err == nil {
			l, err = mk(boot)
		}
		if err == nil {
			err = run(ctx, l, s)
			l.close()
		}
		var se skipError
		if errors.As(err, &se) {
			status, reason = "skip", se.msg
		} else if err != nil {
			status, reason = "fail", err.Error()
		}
		cancel()
		emit(map[string]string{"scenario": s, "status": status, "reason": oneLine(reason)})
	}
}

// secureRoundtrip: 10 records over the scenario's listener and back; with a wrong password the
// client must fail with an authentication error and write nothing.
func secureRoundtrip(ctx context.Context, l lib) error {
	if scenario == "secure.noacl" {
		return noACL(ctx, l)
	}
	topic := name("")
	vals := values("s", 10, "-"+strings.ReplaceAll(scenario, ".", "_"))
	if sec.bad {
		// A direct request, not a produce: franz-go keeps records until their timeout and then
		// reports only the deadline, while a metadata request returns the broker's refusal.
		err := l.metadata(ctx)
		if err == nil {
			return fmt.Errorf("a wrong password was accepted")
		}
		if !isAuthError(err) {
			return fmt.Errorf("a wrong password failed, but not with an authentication error: %v", err)
		}
		return nil
	}
	got, err := roundtrip(ctx, l, topic, vals)
	if err != nil {
		return err
	}
	return checkValues(got, vals, "read back over "+sec.proto)
}

// roundtrip produces vals with acks=all and reads the topic's partitions from the beginning.
func roundtrip(ctx context.Context, l lib, topic string, vals []string) ([]string, error) {
	if err := l.produce(ctx, topic, vals, "all", "none", -1, false); err != nil {
		return nil, fmt.Errorf("produce over %s %s: %w", sec.proto, sec.mech, err)
	}
	parts, err := l.partitions(ctx, topic)
	if err != nil {
		return nil, err
	}
	return l.read(ctx, topic, len(vals), parts, 0)
}

// noACL is secure.noacl (tests/compat/README.md): the super user writes 3 records; the user no ACL
// names must get the library's authorization error producing and reading through a group, and
// no record; then the super user writes a marker and reads through a new group exactly its
// records and the marker (waiting 2 s for more): nothing of the other user's was written.
func noACL(ctx context.Context, l lib) error {
	topic := name("")
	vals := values("a", 3, "-noacl")
	got, err := roundtrip(ctx, l, topic, vals)
	if err != nil {
		return err
	}
	if err := checkValues(got, vals, "written and read back by the super user"); err != nil {
		return err
	}
	asNoACL(true)
	attempts := []struct {
		what string
		f    func() ([]string, error)
	}{
		{"produce", func() ([]string, error) { return roundtrip(ctx, l, topic, []string{"must-not-land"}) }},
		{"group read", func() ([]string, error) {
			got, _, err := l.groupConsume(ctx, topic, name("g-noacl"), 1, 0, false)
			return got, err
		}},
	}
	for _, a := range attempts {
		got, err := a.f()
		if err == nil {
			return fmt.Errorf("%s without an ACL succeeded (%s)", a.what, head(got))
		}
		if !isAuthzError(err) {
			return fmt.Errorf("%s without an ACL failed, but not with an authorization error: %v", a.what, err)
		}
		if len(got) > 0 {
			return fmt.Errorf("%s without an ACL failed but returned %s", a.what, head(got))
		}
	}
	asNoACL(false)
	marker := "z-marker-noacl"
	if err := l.produce(ctx, topic, []string{marker}, "all", "none", -1, false); err != nil {
		return fmt.Errorf("the super user's marker: %w", err)
	}
	got, _, err = l.groupConsume(ctx, topic, name("g-admin"), 4, 2*time.Second, false)
	if err != nil {
		return err
	}
	return checkValues(got, append(vals, marker), "the super user's records, none of noacl's")
}
