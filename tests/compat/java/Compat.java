/*
 * Compat client: the Java kafka-clients (producer, consumer, Admin), compiled by
 * tests/compat/run.py with javac against the cached jars of each Kafka version (3.9.x, 4.x), so one
 * source gives one matrix column per version. It speaks the runner's protocol (see
 * tests/compat/py/compat_common.py): --bootstrap B --prefix P --scenarios s1,s2 prints one JSON line
 * when each scenario starts and one with its result; --version prints the client version.
 * Scenarios: tests/compat/README.md. Consumers in a group run in their own threads: a classic-
 * protocol member only takes part in a rebalance from inside its poll().
 */

import java.time.Duration;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.*;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.*;
import org.apache.kafka.common.utils.AppInfoParser;

public class Compat {
    static class Fail extends RuntimeException {
        Fail(String m) { super(m); }
    }

    static class Skip extends RuntimeException {
        Skip(String m) { super(m); }
    }

    static String bootstrap, prefix, scenario;
    static Properties security = new Properties(); // the secure scenarios' settings, on every client
    static long deadline;
    static final double TIMEOUT_S = Double.parseDouble(
        Optional.ofNullable(System.getenv("COMPAT_SCENARIO_TIMEOUT")).orElse("20"));

    public static void main(String[] args) {
        String list = "";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--version": System.out.println("kafka-clients " + AppInfoParser.getVersion()); return;
                case "--bootstrap": bootstrap = args[++i]; break;
                case "--prefix": prefix = args[++i]; break;
                case "--scenarios": list = args[++i]; break;
                default: System.err.println("unknown argument " + args[i]); System.exit(2);
            }
        }
        for (String s : list.split(",")) {
            if (s.isEmpty()) continue;
            scenario = s;
            deadline = System.nanoTime() + (long) (TIMEOUT_S * slowness(s) * 1e9);
            emit("{\"start\": " + q(s) + "}");
            String status = "pass", reason = "";
            try {
                run(s);
            } catch (Skip e) {
                status = "skip"; reason = e.getMessage();
            } catch (Fail e) {
                status = "fail"; reason = e.getMessage();
            } catch (Throwable e) {
                Throwable c = (e instanceof ExecutionException && e.getCause() != null) ? e.getCause() : e;
                status = "fail"; reason = c.getClass().getSimpleName() + ": " + c.getMessage();
            }
            emit("{\"scenario\": " + q(s) + ", \"status\": " + q(status) + ", \"reason\": " + q(oneLine(reason)) + "}");
        }
        System.exit(0); // client threads (admin, group members) must not keep the JVM alive
    }

    /** A scenario that starts a whole application gets this many scenario timeouts (run.py: SLOW). */
    static double slowness(String s) {
        return s.equals("streams.eos") ? 3 : 1;
    }

    static void emit(String line) {
        System.out.println(line);
        System.out.flush();
    }

    static String oneLine(String s) {
        s = s == null ? "" : s.replaceAll("\\s+", " ").trim();
        return s.length() > 300 ? s.substring(0, 297) + "..." : s;
    }

    static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    static long leftMs() { return Math.max(0, (deadline - System.nanoTime()) / 1_000_000); }

    static boolean expired() { return System.nanoTime() >= deadline; }

    static String name(String what) {
        return prefix + "-" + scenario.replace('.', '-') + (what.isEmpty() ? "" : "-" + what);
    }

    interface Check { boolean ok() throws Exception; }

    static void waitUntil(String what, Check c) throws Exception {
        Exception last = null;
        while (true) {
            try {
                if (c.ok()) return;
            } catch (Fail | Skip e) {
                throw e;
            } catch (Exception e) {
                last = e;
            }
            if (expired()) throw new Fail("timed out waiting for " + what + (last != null ? ": " + last : ""));
            Thread.sleep(200);
        }
    }

    static <T> T get(KafkaFuture<T> f, String what) throws Exception {
        try {
            return f.get(Math.max(1000, leftMs()), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new Fail(what + ": " + e.getCause());
        } catch (TimeoutException e) {
            throw new Fail(what + ": no answer before the deadline");
        }
    }

    // --- clients -------------------------------------------------------------------------------

    static KafkaProducer<String, String> producer(String... kv) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("linger.ms", "5");
        p.put("request.timeout.ms", "5000");
        p.put("delivery.timeout.ms", "12000");
        p.put("max.block.ms", "10000");
        p.put("enable.idempotence", "false"); // the idempotent scenario turns it on
        for (int i = 0; i + 1 < kv.length; i += 2) p.put(kv[i], kv[i + 1]);
        p.putAll(security);
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    static KafkaConsumer<String, String> consumer(String group) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        if (group != null) p.put("group.id", group);
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        p.put("session.timeout.ms", "10000");
        p.put("heartbeat.interval.ms", "1000");
        p.put("request.timeout.ms", "5000");
        p.put("default.api.timeout.ms", "10000");
        p.putAll(security);
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    static Admin admin() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("request.timeout.ms", "5000");
        p.put("default.api.timeout.ms", "10000");
        p.putAll(security);
        return Admin.create(p);
    }

    static List<String> values(String pfx, int n, String sfx) {
        List<String> v = new ArrayList<>();
        for (int i = 0; i < n; i++) v.add(pfx + i + sfx);
        return v;
    }

    static void produce(KafkaProducer<String, String> p, String topic, List<String> vals, Integer partition) throws Exception {
        List<Future<RecordMetadata>> fs = new ArrayList<>();
        for (String v : vals) {
            // send() blocks up to max.block.ms while it has no metadata: keep to the deadline.
            if (expired()) throw new Fail("deadline passed while sending (no metadata for " + topic + "?)");
            fs.add(p.send(new ProducerRecord<>(topic, partition, v, v)));
        }
        p.flush();
        for (Future<RecordMetadata> f : fs) {
            try {
                f.get(Math.max(1000, leftMs()), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw new Fail("delivery failed: " + e.getCause());
            }
        }
    }

    static List<Integer> partitions(KafkaProducer<String, String> p, String topic) {
        List<Integer> r = new ArrayList<>();
        for (PartitionInfo pi : p.partitionsFor(topic)) r.add(pi.partition());
        Collections.sort(r);
        return r;
    }

    static List<String> read(String topic, int n, List<Integer> parts, long start) throws Exception {
        List<String> got = new ArrayList<>();
        try (KafkaConsumer<String, String> c = consumer(null)) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int p : parts) tps.add(new TopicPartition(topic, p));
            c.assign(tps);
            for (TopicPartition tp : tps) c.seek(tp, start);
            while (got.size() < n && !expired())
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) got.add(r.value());
        }
        return got;
    }

    static void checkValues(List<String> got, List<String> want, String what) {
        List<String> a = new ArrayList<>(got), b = new ArrayList<>(want);
        Collections.sort(a);
        Collections.sort(b);
        if (a.equals(b)) return;
        List<String> missing = new ArrayList<>(want);
        missing.removeAll(got);
        throw new Fail(String.format("%s: got %d values, want %d (%d missing e.g. %s)", what, got.size(),
                                     want.size(), missing.size(), missing.subList(0, Math.min(2, missing.size()))));
    }

    // --- scenarios ----------------------------------------------------------------------------

    static void run(String s) throws Exception {
        if (s.startsWith("secure.")) {
            secure(s);
            return;
        }
        if (s.startsWith("produce.")) {
            String[] f = s.split("\\.");
            produceScenario(f[1].substring(4), f[2]);
            return;
        }
        switch (s) {
            case "metadata": metadata(); break;
            case "fetch": fetch(); break;
            case "group.join": groupJoin(); break;
            case "group.rebalance": groupRebalance(); break;
            case "group.static": groupStatic(); break;
            case "group.commit": commitRound(name(""), name("group"), values("c", 30, "")); break;
            case "group.resume": groupResume(); break;
            case "admin.create": try (Admin a = admin()) { create(a, name("")); } break;
            case "admin.describe": adminDescribe(); break;
            case "admin.alter": adminAlter(); break;
            case "admin.delete": adminDelete(); break;
            case "idempotent": idempotent(); break;
            case "txn.commit": txnCommit(); break;
            case "txn.abort": txnAbort(); break;
            case "txn.fence": txnFence(); break;
            case "read_committed": readCommitted(); break;
            case "streams.eos": streamsEos(); break;
            default: throw new Skip("scenario not implemented by this client");
        }
    }

    // --- secure scenarios (tests/compat/README.md; the listeners from $COMPAT_SECURITY) -------

    static Map<String, String> securityInfo() throws Exception {
        String path = System.getenv("COMPAT_SECURITY");
        if (path == null) throw new Skip("the target has no secure listeners (no TLS material)");
        String json = new String(java.nio.file.Files.readAllBytes(java.nio.file.Paths.get(path)));
        Map<String, String> m = new HashMap<>();
        java.util.regex.Matcher mt = java.util.regex.Pattern.compile("\"(\\w+)\": \"([^\"]*)\"").matcher(json);
        while (mt.find()) m.put(mt.group(1), mt.group(2));
        return m;
    }

    static void setSecurity(Map<String, String> info, String proto, String mech, String user, String pass) {
        String saved = bootstrap;
        bootstrap = info.get(proto);
        if (bootstrap == null) bootstrap = saved;
        security = new Properties();
        security.put("security.protocol", proto);
        if (proto.contains("SSL")) {
            security.put("ssl.truststore.location", info.get("truststore"));
            security.put("ssl.truststore.password", info.get("truststore_password"));
            security.put("ssl.truststore.type", "JKS");
        }
        if (mech != null) {
            String module = mech.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                                                 : "org.apache.kafka.common.security.scram.ScramLoginModule";
            security.put("sasl.mechanism", mech);
            security.put("sasl.jaas.config", module + " required username=\"" + user + "\" password=\"" + pass + "\";");
        }
    }

    static void secure(String s) throws Exception {
        Map<String, String> info = securityInfo();
        String plainBootstrap = bootstrap;
        try {
            if (s.equals("secure.scram_admin")) {
                scramAdmin(info);
                return;
            }
            if (s.equals("secure.noacl")) {
                noAcl(info);
                return;
            }
            String proto, mech = null;
            boolean bad = s.equals("secure.badpass");
            switch (s) {
                case "secure.ssl": proto = "SSL"; break;
                case "secure.sasl_ssl.scram256": case "secure.badpass": proto = "SASL_SSL"; mech = "SCRAM-SHA-256"; break;
                case "secure.sasl_ssl.scram512": proto = "SASL_SSL"; mech = "SCRAM-SHA-512"; break;
                case "secure.sasl_ssl.plain": proto = "SASL_SSL"; mech = "PLAIN"; break;
                case "secure.sasl_plaintext.scram512": proto = "SASL_PLAINTEXT"; mech = "SCRAM-SHA-512"; break;
                default: throw new Skip("scenario not implemented by this client");
            }
            boolean plain = "PLAIN".equals(mech);
            setSecurity(info, proto, mech, info.get(plain ? "plain_user" : "user"),
                        bad ? "wrong-password" : info.get(plain ? "plain_password" : "password"));
            String topic = name("");
            List<String> vals = values("s", 10, "-" + s.replace('.', '_'));
            try (KafkaProducer<String, String> p = producer()) {
                produce(p, topic, vals, null);
                if (bad) throw new Fail("a wrong password was accepted");
                checkValues(read(topic, vals.size(), partitions(p, topic), 0), vals, "read back over " + proto);
            } catch (Fail e) {
                if (!bad || !(e.getMessage().contains("Authentication") || e.getMessage().contains("SaslAuthentication")))
                    throw e;
            } catch (org.apache.kafka.common.errors.AuthenticationException e) {
                if (!bad) throw e;
            }
        } finally {
            security = new Properties();
            bootstrap = plainBootstrap;
        }
    }

    /* secure.noacl (tests/compat/README.md): the super user admin writes 3 records; the user no ACL
     * names gets TopicAuthorizationException producing and a Group/TopicAuthorizationException
     * reading through a group, with no record; admin then reads exactly its records and a marker. */
    static void noAcl(Map<String, String> info) throws Exception {
        String topic = name("");
        List<String> vals = values("a", 3, "-noacl");
        setSecurity(info, "SASL_SSL", "SCRAM-SHA-512", info.get("user"), info.get("password"));
        try (KafkaProducer<String, String> p = producer()) {
            produce(p, topic, vals, null);
        }
        setSecurity(info, "SASL_SSL", "SCRAM-SHA-512", info.get("noacl_user"), info.get("noacl_password"));
        try (KafkaProducer<String, String> p = producer()) {
            produce(p, topic, Arrays.asList("must-not-land"), null);
            throw new Fail("produce without an ACL succeeded");
        } catch (Fail e) {
            if (!e.getMessage().contains("TopicAuthorizationException"))
                throw new Fail("produce without an ACL: " + e.getMessage() + ", want TopicAuthorizationException");
        }
        try (KafkaConsumer<String, String> c = consumer(name("g-noacl"))) {
            c.subscribe(Arrays.asList(topic));
            throw new Fail("group read without an ACL succeeded: " + drain(c, 1, 0));
        } catch (org.apache.kafka.common.errors.GroupAuthorizationException
                 | org.apache.kafka.common.errors.TopicAuthorizationException e) {
            // the client's authorization error, and no record
        }
        setSecurity(info, "SASL_SSL", "SCRAM-SHA-512", info.get("user"), info.get("password"));
        try (KafkaProducer<String, String> p = producer()) {
            produce(p, topic, Arrays.asList("z-marker-noacl"), null);
        }
        List<String> want = new ArrayList<>(vals);
        want.add("z-marker-noacl");
        try (KafkaConsumer<String, String> c = consumer(name("g-admin"))) {
            c.subscribe(Arrays.asList(topic));
            checkValues(drain(c, 4, 2000), want, "the super user's records, none of noacl's");
        }
    }

    /* AlterUserScramCredentials/DescribeUserScramCredentials through the Admin client over SASL_SSL,
     * then the new user authenticates, then its credential is deleted and it no longer does. */
    static void scramAdmin(Map<String, String> info) throws Exception {
        setSecurity(info, "SASL_SSL", "SCRAM-SHA-512", info.get("user"), info.get("password"));
        String user = name("user");
        try (Admin a = admin()) {
            a.alterUserScramCredentials(Arrays.asList(new UserScramCredentialUpsertion(user,
                new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 8192), "pw-" + user))).all().get(10, TimeUnit.SECONDS);
            UserScramCredentialsDescription d = a.describeUserScramCredentials(Arrays.asList(user)).description(user)
                .get(10, TimeUnit.SECONDS);
            if (d.credentialInfos().size() != 1 || d.credentialInfos().get(0).iterations() != 8192)
                throw new Fail("described " + d.credentialInfos() + ", want SCRAM-SHA-256 with 8192 iterations");
            try {
                a.alterUserScramCredentials(Arrays.asList(new UserScramCredentialUpsertion(user,
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 100), "x"))).all().get(10, TimeUnit.SECONDS);
                throw new Fail("100 iterations were accepted");
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnacceptableCredentialException))
                    throw new Fail("100 iterations: " + e.getCause() + ", want UnacceptableCredentialException");
            }
            // The brokers run an authorizer and the new user is no super user: ALL on the topic it
            // writes, seen by the authorizer (DescribeAcls answers from it) before it produces.
            AclBinding acl = new AclBinding(new org.apache.kafka.common.resource.ResourcePattern(
                    org.apache.kafka.common.resource.ResourceType.TOPIC, name(""),
                    org.apache.kafka.common.resource.PatternType.LITERAL),
                new AccessControlEntry("User:" + user, "*", AclOperation.ALL, AclPermissionType.ALLOW));
            a.createAcls(Arrays.asList(acl)).all().get(10, TimeUnit.SECONDS);
            long deadline = System.currentTimeMillis() + 10000;
            while (a.describeAcls(acl.toFilter()).values().get(10, TimeUnit.SECONDS).isEmpty()) {
                if (System.currentTimeMillis() > deadline) throw new Fail("a created ACL is not described");
                Thread.sleep(100);
            }
        }
        setSecurity(info, "SASL_SSL", "SCRAM-SHA-256", user, "pw-" + user);
        try (KafkaProducer<String, String> p = producer()) {
            produce(p, name(""), values("u", 3, ""), null);
        }
        setSecurity(info, "SASL_SSL", "SCRAM-SHA-512", info.get("user"), info.get("password"));
        try (Admin a = admin()) {
            a.alterUserScramCredentials(Arrays.asList(new UserScramCredentialDeletion(user, ScramMechanism.SCRAM_SHA_256)))
                .all().get(10, TimeUnit.SECONDS);
            try {
                a.describeUserScramCredentials(Arrays.asList(user)).description(user).get(10, TimeUnit.SECONDS);
                throw new Fail("a deleted user is still described");
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.ResourceNotFoundException))
                    throw new Fail("describe after delete: " + e.getCause() + ", want ResourceNotFoundException");
            }
        }
    }

    /** Kafka Streams exactly_once_v2 (StreamsEos.java), found at run time: run.py compiles it only
     *  where kafka-streams could be fetched, and without it the column's other scenarios still run. */
    static void streamsEos() throws Exception {
        Class<?> c;
        try {
            c = Class.forName("StreamsEos");
        } catch (ClassNotFoundException | NoClassDefFoundError e) {
            throw new Skip("kafka-streams is not available here: " + e);
        }
        try {
            c.getMethod("run", String.class, String.class, long.class).invoke(null, bootstrap, name(""), deadline);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof Exception) throw (Exception) e.getCause();
            throw e;
        }
    }

    static void metadata() {
        try (KafkaProducer<String, String> p = producer()) {
            List<PartitionInfo> ps = p.partitionsFor(name(""));
            if (ps.isEmpty() || ps.get(0).leader() == null || ps.get(0).leader().host().isEmpty())
                throw new Fail("metadata has no leader for an auto-created topic: " + ps);
        }
    }

    static void produceScenario(String acks, String codec) throws Exception {
        String topic = name("");
        List<String> vals = values("v", 20, "-" + codec);
        List<String> want = new ArrayList<>(vals);
        if (acks.equals("0")) { // see WARM in tests/compat/py/compat_common.py
            fill(topic, List.of("w0"));
            want.add("w0");
        }
        try (KafkaProducer<String, String> p = producer("acks", acks, "compression.type", codec)) {
            produce(p, topic, vals, null);
            checkValues(read(topic, want.size(), partitions(p, topic), 0), want, "read back");
        }
    }

    static void fetch() throws Exception {
        String topic = name("");
        List<String> vals = values("f", 50, "");
        try (KafkaProducer<String, String> p = producer("acks", "all")) {
            produce(p, topic, vals, 0);
        }
        List<String> got = read(topic, 50, List.of(0), 0);
        if (!got.equals(vals)) throw new Fail("from offset 0: got " + head(got) + ", want f0..f49 in order");
        got = read(topic, 25, List.of(0), 25);
        if (!got.equals(vals.subList(25, 50))) throw new Fail("from offset 25 (inside a batch): got " + head(got));
    }

    static String head(List<String> l) { return l.subList(0, Math.min(3, l.size())) + "... (" + l.size() + ")"; }

    static List<Integer> fill(String topic, List<String> vals) throws Exception {
        try (KafkaProducer<String, String> p = producer("acks", "all")) {
            produce(p, topic, vals, null);
            return partitions(p, topic);
        }
    }

    static List<String> drain(KafkaConsumer<String, String> c, int n, long extraMs) {
        List<String> got = new ArrayList<>();
        long end = Long.MAX_VALUE;
        while (!expired() && System.nanoTime() < end) {
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) got.add(r.value());
            if (got.size() >= n && end == Long.MAX_VALUE) end = System.nanoTime() + extraMs * 1_000_000;
        }
        return got;
    }

    static void groupJoin() throws Exception {
        String topic = name("");
        List<String> vals = values("g", 30, "");
        fill(topic, vals);
        try (KafkaConsumer<String, String> c = consumer(name("group"))) {
            c.subscribe(List.of(topic));
            checkValues(drain(c, 30, 0), vals, "group consume");
        }
    }

    static void commitRound(String topic, String group, List<String> vals) throws Exception {
        fill(topic, vals);
        try (KafkaConsumer<String, String> c = consumer(group)) {
            c.subscribe(List.of(topic));
            checkValues(drain(c, vals.size(), 0), vals, "group consume");
            c.commitSync();
            long total = 0;
            for (OffsetAndMetadata om : c.committed(c.assignment()).values()) if (om != null) total += om.offset();
            if (total != vals.size()) throw new Fail("committed offsets sum to " + total + ", want " + vals.size());
        }
    }

    static void groupResume() throws Exception {
        String topic = name(""), group = name("group");
        commitRound(topic, group, values("a", 20, ""));
        List<String> second = values("b", 10, "");
        fill(topic, second);
        try (KafkaConsumer<String, String> c = consumer(group)) {
            c.subscribe(List.of(topic));
            checkValues(drain(c, 10, 1000), second, "resumed consume (only the 10 new messages)");
        }
    }

    static class Member extends Thread {
        final String group, topic, instance; // instance: group.instance.id, null for a dynamic member
        volatile Set<Integer> parts = Set.of();
        volatile boolean stop;
        volatile int callbacks; // rebalance listener calls (assigned + revoked)
        final AtomicReference<Throwable> error = new AtomicReference<>();

        Member(String group, String topic) { this(group, topic, null); }

        Member(String group, String topic, String instance) {
            this.group = group; this.topic = topic; this.instance = instance; setDaemon(true);
        }

        public void run() {
            try (KafkaConsumer<String, String> c = instance == null ? consumer(group) : staticConsumer(group, instance)) {
                c.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                    public void onPartitionsRevoked(Collection<TopicPartition> tps) { callbacks++; }
                    public void onPartitionsAssigned(Collection<TopicPartition> tps) { callbacks++; }
                });
                while (!stop) {
                    c.poll(Duration.ofMillis(100));
                    Set<Integer> s = new HashSet<>();
                    for (TopicPartition tp : c.assignment()) s.add(tp.partition());
                    parts = s;
                }
            } catch (Throwable e) {
                error.set(e);
            }
        }
    }

    static void groupRebalance() throws Exception {
        String topic = name(""), group = name("group");
        List<Integer> parts = fill(topic, values("r", 6, ""));
        if (parts.size() < 2) throw new Skip("auto-created topic has " + parts.size() + " partition(s); rebalance needs 2+");
        Member a = new Member(group, topic), b = new Member(group, topic);
        try {
            a.start();
            waitUntil("first member's assignment", () -> !a.parts.isEmpty() || a.error.get() != null);
            b.start();
            waitUntil("both members assigned disjoint partitions covering all " + parts.size(), () -> {
                for (Member m : List.of(a, b))
                    if (m.error.get() != null) throw new Fail("member error: " + m.error.get());
                Set<Integer> pa = a.parts, pb = b.parts, all = new HashSet<>(pa);
                all.addAll(pb);
                return !pa.isEmpty() && !pb.isEmpty() && Collections.disjoint(pa, pb) && all.equals(new HashSet<>(parts));
            });
        } finally {
            a.stop = true;
            b.stop = true;
            a.join(10000);
            b.join(10000);
        }
    }

    static KafkaConsumer<String, String> staticConsumer(String group, String instance) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", group);
        p.put("group.instance.id", instance);
        p.put("session.timeout.ms", "15000");
        p.put("heartbeat.interval.ms", "500");
        p.put("enable.auto.commit", "false");
        p.put("partition.assignment.strategy", "org.apache.kafka.clients.consumer.RangeAssignor");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    /* Two static members, a (the first, so the leader) then b; a closes (static members send no
     * LeaveGroup) and a new consumer with its group.instance.id comes back within the session
     * timeout: it gets the same partitions and b sees no rebalance (KIP-345), though the returning
     * leader's subscription bytes differ from its last join's (that one listed owned partitions). */
    static void groupStatic() throws Exception {
        String topic = name(""), group = name("group");
        List<Integer> parts = fill(topic, values("s", 6, ""));
        if (parts.size() < 2) throw new Skip("auto-created topic has " + parts.size() + " partition(s); this needs 2+");
        Member a = new Member(group, topic, "a"), b = new Member(group, topic, "b"), a2 = null;
        try {
            a.start();
            final Member fa = a, fb = b;
            waitUntil("the first static member's assignment", () -> !fa.parts.isEmpty() || fa.error.get() != null);
            b.start();
            waitUntil("two static members with disjoint assignments covering all " + parts.size(), () -> {
                for (Member m : List.of(fa, fb))
                    if (m.error.get() != null) throw new Fail("member error: " + m.error.get());
                Set<Integer> all = new HashSet<>(fa.parts);
                all.addAll(fb.parts);
                return !fa.parts.isEmpty() && !fb.parts.isEmpty() && Collections.disjoint(fa.parts, fb.parts)
                    && all.equals(new HashSet<>(parts));
            });
            Thread.sleep(1000); // a few heartbeats in Stable
            Set<Integer> aParts = a.parts;
            int before = b.callbacks;
            a.stop = true;
            a.join(10000);
            a2 = new Member(group, topic, "a");
            a2.start();
            final Member fa2 = a2;
            waitUntil("the restarted static leader's assignment", () -> {
                if (fa2.error.get() != null) throw new Fail("member error: " + fa2.error.get());
                return !fa2.parts.isEmpty();
            });
            if (!a2.parts.equals(aParts)) throw new Fail("restarted static leader got " + a2.parts + ", had " + aParts);
            Thread.sleep(2000);
            if (b.callbacks != before)
                throw new Fail("the other member went through " + (b.callbacks - before) + " rebalance callbacks");
        } finally {
            for (Member m : new Member[] {a, b, a2})
                if (m != null) { m.stop = true; m.join(10000); }
        }
    }

    static int partitionCount(Admin a, String topic) throws Exception {
        return get(a.describeTopics(List.of(topic)).allTopicNames(), "DescribeTopics").get(topic).partitions().size();
    }

    static void create(Admin a, String topic) throws Exception {
        NewTopic nt = new NewTopic(topic, 2, (short) 1).configs(Map.of("retention.ms", "604800000"));
        get(a.createTopics(List.of(nt)).all(), "CreateTopics");
        int n = partitionCount(a, topic);
        if (n != 2) throw new Fail("created topic has " + n + " partitions, want 2");
    }

    static String configOf(Admin a, String topic, String key) throws Exception {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config c = get(a.describeConfigs(List.of(r)).all(), "DescribeConfigs").get(r);
        ConfigEntry e = c.get(key);
        if (e == null) throw new Fail("DescribeConfigs has no " + key);
        return e.value();
    }

    static void adminDescribe() throws Exception {
        try (Admin a = admin()) {
            String topic = name("");
            create(a, topic);
            String v = configOf(a, topic, "retention.ms");
            if (!"604800000".equals(v)) throw new Fail("retention.ms = " + v + ", want 604800000");
        }
    }

    static void adminAlter() throws Exception {
        try (Admin a = admin()) {
            String topic = name("");
            create(a, topic);
            ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            AlterConfigOp op = new AlterConfigOp(new ConfigEntry("retention.ms", "86400000"), AlterConfigOp.OpType.SET);
            get(a.incrementalAlterConfigs(Map.of(r, List.of(op))).all(), "IncrementalAlterConfigs");
            waitUntil("retention.ms=86400000 in DescribeConfigs", () -> "86400000".equals(configOf(a, topic, "retention.ms")));
            get(a.createPartitions(Map.of(topic, NewPartitions.increaseTo(3))).all(), "CreatePartitions");
            waitUntil("3 partitions", () -> partitionCount(a, topic) == 3);
        }
    }

    static void adminDelete() throws Exception {
        try (Admin a = admin()) {
            String topic = name("");
            create(a, topic);
            get(a.deleteTopics(List.of(topic)).all(), "DeleteTopics");
            waitUntil("topic gone from ListTopics", () -> !get(a.listTopics().names(), "ListTopics").contains(topic));
        }
    }

    static void idempotent() throws Exception {
        String topic = name("");
        List<String> vals = values("i", 50, "");
        try (KafkaProducer<String, String> p = producer("enable.idempotence", "true", "acks", "all")) {
            produce(p, topic, vals, 0);
        }
        List<String> got = read(topic, 50, List.of(0), 0);
        if (!got.equals(vals)) throw new Fail("read back " + head(got) + ", want i0..i49 once each in order");
    }

    // --- transactions (KIP-98) ----------------------------------------------------------------

    static KafkaProducer<String, String> txnProducer(String txid) {
        KafkaProducer<String, String> p = producer("transactional.id", txid, "enable.idempotence", "true",
                                                   "acks", "all", "delivery.timeout.ms", "15000",
                                                   "transaction.timeout.ms", "60000");
        p.initTransactions();
        return p;
    }

    static KafkaConsumer<String, String> isoConsumer(String isolation) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("isolation.level", isolation);
        p.put("enable.auto.commit", "false");
        p.put("request.timeout.ms", "5000");
        p.put("default.api.timeout.ms", "10000");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    static List<TopicPartition> assignFromStart(KafkaConsumer<String, String> c, String topic, List<Integer> parts) {
        List<TopicPartition> tps = new ArrayList<>();
        for (int p : parts) tps.add(new TopicPartition(topic, p));
        c.assign(tps);
        c.seekToBeginning(tps);
        return tps;
    }

    /* n values from the beginning at the isolation level, then settleMs more for extras. */
    static List<String> readIso(String topic, List<Integer> parts, int n, String isolation, long settleMs) {
        List<String> got = new ArrayList<>();
        try (KafkaConsumer<String, String> c = isoConsumer(isolation)) {
            assignFromStart(c, topic, parts);
            long end = Long.MAX_VALUE;
            while (!expired() && System.nanoTime() < end) {
                if (got.size() >= n && end == Long.MAX_VALUE) end = System.nanoTime() + settleMs * 1_000_000;
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) got.add(r.value());
            }
        }
        return got;
    }

    static void send(KafkaProducer<String, String> p, String topic, List<String> vals) {
        for (String v : vals) p.send(new ProducerRecord<>(topic, v, v));
    }

    static void txnCommit() throws Exception {
        String topic = name(""), txid = name("tx");
        List<Integer> parts = fill(topic, List.of("seed"));
        List<String> vals = values("t", 20, "");
        try (KafkaProducer<String, String> p = txnProducer(txid)) {
            p.beginTransaction();
            send(p, topic, vals);
            p.commitTransaction();
        }
        List<String> want = new ArrayList<>(vals);
        want.add("seed");
        checkValues(readIso(topic, parts, 21, "read_committed", 500), want, "read_committed after the commit");
        // The coordinator's view, as kafka-transactions.sh shows it.
        try (Admin a = admin()) {
            boolean listed = false;
            for (TransactionListing l : get(a.listTransactions().all(), "ListTransactions"))
                listed |= l.transactionalId().equals(txid) && l.state() == TransactionState.COMPLETE_COMMIT;
            if (!listed) throw new Fail("ListTransactions does not show " + txid + " in CompleteCommit");
            TransactionDescription d = get(a.describeTransactions(List.of(txid)).description(txid),
                                           "DescribeTransactions");
            if (d.state() != TransactionState.COMPLETE_COMMIT || d.producerId() < 0)
                throw new Fail("DescribeTransactions: " + d);
        }
    }

    static void txnAbort() throws Exception {
        String topic = name("");
        List<Integer> parts = fill(topic, List.of("seed"));
        List<String> aborted = values("a", 10, ""), committed = values("c", 10, "");
        try (KafkaProducer<String, String> p = txnProducer(name("tx"))) {
            p.beginTransaction();
            send(p, topic, aborted);
            p.flush(); // the records are in the log, acknowledged, before the abort
            p.abortTransaction();
            p.beginTransaction();
            send(p, topic, committed);
            p.commitTransaction();
        }
        List<String> want = new ArrayList<>(committed);
        want.add("seed");
        checkValues(readIso(topic, parts, 11, "read_committed", 500), want, "read_committed: only the committed transaction");
        want.addAll(aborted);
        checkValues(readIso(topic, parts, 21, "read_uncommitted", 500), want, "read_uncommitted: both transactions");
    }

    static void txnFence() throws Exception {
        String topic = name(""), txid = name("tx");
        List<Integer> parts = fill(topic, List.of("seed"));
        List<String> winners = values("winner", 5, "");
        KafkaProducer<String, String> a = txnProducer(txid);
        try {
            a.beginTransaction();
            send(a, topic, values("zombie", 5, ""));
            a.flush();
            try (KafkaProducer<String, String> b = txnProducer(txid)) { // fences a
                b.beginTransaction();
                send(b, topic, winners);
                b.commitTransaction();
            }
            try {
                a.commitTransaction();
                throw new Fail("the fenced producer's commit succeeded");
            } catch (org.apache.kafka.common.errors.ProducerFencedException
                     | org.apache.kafka.common.errors.InvalidProducerEpochException e) {
                // fenced, as it must be
            }
        } finally {
            a.close(Duration.ZERO);
        }
        List<String> want = new ArrayList<>(winners);
        want.add("seed");
        checkValues(readIso(topic, parts, 6, "read_committed", 500), want, "read_committed: only the new instance's records");
    }

    static void readCommitted() throws Exception {
        String topic = name("");
        List<Integer> parts = fill(topic, List.of("seed"));
        List<String> vals = values("o", 10, "");
        List<String> got = new ArrayList<>();
        try (KafkaProducer<String, String> p = txnProducer(name("tx"));
             KafkaConsumer<String, String> c = isoConsumer("read_committed")) {
            p.beginTransaction();
            send(p, topic, vals);
            p.flush();
            assignFromStart(c, topic, parts);
            long end = System.nanoTime() + 2_000_000_000L;
            while (System.nanoTime() < end)
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) got.add(r.value());
            if (!got.equals(List.of("seed"))) throw new Fail("read_committed saw " + head(got) + " before the commit");
            p.commitTransaction();
            while (got.size() < 11 && !expired())
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) got.add(r.value());
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) got.add(r.value());
        }
        List<String> want = new ArrayList<>(vals);
        want.add("seed");
        checkValues(got, want, "read_committed after the commit");
    }
}
