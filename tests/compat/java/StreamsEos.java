/*
 * The compat matrix's streams.eos scenario: a Kafka Streams word count with
 * processing.guarantee=exactly_once_v2 (kafka-streams from Maven Central, the version of the Java
 * column), run by Compat.java through reflection so that the java columns still work where
 * kafka-streams could not be fetched (tests/compat/run.py compiles this file apart).
 *
 * The application, with Streams' defaults but for the cache: lines -> words (flatMapValues) ->
 * groupBy word (a repartition topic) -> count in an in-memory store (a compacted changelog topic)
 * -> the running counts to the output topic, with the record cache off so every input word emits
 * one update. One stream thread is made to fail once,
 * in the middle of the input, after it has processed part of a transaction; the uncaught-exception
 * handler replaces the thread, which restores the store from the changelog and processes again
 * from the last committed offsets.
 *
 * What a read_committed reader of the output must see for every word: the counts 1, 2, ..., n in
 * order, each exactly once, n being the word's number of occurrences. Under at_least_once the
 * failed thread's work would be counted twice (a repeated or skipped count); under exactly_once_v2
 * the broker aborts the failed transaction (output, changelog and repartition records and the
 * consumed offsets together), so nothing of it is visible.
 */

import java.nio.file.Files;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.serialization.*;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.*;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.*;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

public class StreamsEos {
    static final int LINES = 300;                 // input records, 4 words each
    static final String[] VOCABULARY = {"kafka", "samsa", "stream", "word", "count", "exactly", "once",
                                        "broker", "topic", "record", "offset", "commit"};
    static final int FAIL_AT = LINES * 4 / 2;     // the word at which one thread fails, once

    /** Runs the scenario; topics and the application id start with @p prefix. Throws Compat.Fail. */
    public static void run(String bootstrap, String prefix, long deadlineNanos) throws Exception {
        String in = prefix + "-in", out = prefix + "-out";
        Properties ap = new Properties();
        ap.put("bootstrap.servers", bootstrap);
        ap.put("request.timeout.ms", "5000");
        ap.put("default.api.timeout.ms", "10000");
        try (Admin a = Admin.create(ap)) {
            a.createTopics(List.of(new NewTopic(in, 3, (short) 1), new NewTopic(out, 3, (short) 1))).all().get();
        }

        Map<String, Integer> want = new TreeMap<>();
        Properties pp = new Properties();
        pp.put("bootstrap.servers", bootstrap);
        pp.put("acks", "all");
        pp.put("linger.ms", "5");
        try (KafkaProducer<String, String> p = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < LINES; i++) {
                StringBuilder line = new StringBuilder();
                for (int w = 0; w < 4; w++) {
                    String word = VOCABULARY[(i * 7 + w * 5 + i / 3) % VOCABULARY.length];
                    want.merge(word, 1, Integer::sum);
                    line.append(w == 0 ? "" : " ").append(word);
                }
                p.send(new ProducerRecord<>(in, "line-" + i, line.toString()));
            }
            p.flush();
        }

        AtomicInteger words = new AtomicInteger();
        AtomicBoolean failed = new AtomicBoolean();
        StreamsBuilder b = new StreamsBuilder();
        b.stream(in, Consumed.with(Serdes.String(), Serdes.String()))
            .flatMapValues(line -> Arrays.asList(line.split(" ")))
            .peek((k, word) -> {
                if (words.incrementAndGet() == FAIL_AT && failed.compareAndSet(false, true))
                    throw new IllegalStateException("injected failure in the middle of a transaction");
            })
            .groupBy((k, word) -> word, Grouped.with(Serdes.String(), Serdes.String()))
            .count(Materialized.<String, Long>as(Stores.inMemoryKeyValueStore("counts"))
                       .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()))
            .toStream()
            .to(out, Produced.with(Serdes.String(), Serdes.Long()));

        Properties sp = new Properties();
        sp.put(StreamsConfig.APPLICATION_ID_CONFIG, prefix + "-app");
        sp.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        sp.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        sp.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        sp.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0); // every count update goes out
        sp.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        sp.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 2);
        sp.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("streams-eos").toString());
        sp.put(StreamsConfig.consumerPrefix("session.timeout.ms"), 10000);
        sp.put(StreamsConfig.consumerPrefix("heartbeat.interval.ms"), 1000);
        sp.put(StreamsConfig.producerPrefix("transaction.timeout.ms"), 10000);
        List<Throwable> fatal = Collections.synchronizedList(new ArrayList<>());
        KafkaStreams streams = new KafkaStreams(b.build(), sp);
        streams.setUncaughtExceptionHandler(e -> {
            if (isInjected(e)) return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
            fatal.add(e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.start();

        Map<String, List<Long>> seen = new TreeMap<>();
        Properties cp = new Properties();
        cp.put("bootstrap.servers", bootstrap);
        cp.put("group.id", prefix + "-reader");
        cp.put("auto.offset.reset", "earliest");
        cp.put("enable.auto.commit", "false");
        cp.put("isolation.level", "read_committed");
        int total = want.values().stream().mapToInt(Integer::intValue).sum(), got = 0;
        try (KafkaConsumer<String, Long> c = new KafkaConsumer<>(cp, new StringDeserializer(), new LongDeserializer())) {
            c.subscribe(List.of(out));
            while (got < total && System.nanoTime() < deadlineNanos && fatal.isEmpty()) {
                for (ConsumerRecord<String, Long> r : c.poll(Duration.ofMillis(200))) {
                    seen.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
                    got++;
                }
            }
            // a little longer: a duplicate count after the last expected one must show too
            long extra = System.nanoTime() + 1_000_000_000L;
            while (System.nanoTime() < Math.min(extra, deadlineNanos) && fatal.isEmpty())
                for (ConsumerRecord<String, Long> r : c.poll(Duration.ofMillis(200))) {
                    seen.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
                    got++;
                }
        } finally {
            streams.close(Duration.ofSeconds(10));
        }
        if (!fatal.isEmpty()) throw new Compat.Fail("the streams application failed: " + fatal.get(0));
        if (!failed.get()) throw new Compat.Fail("the injected failure never happened (" + words.get() + " words processed)");
        for (Map.Entry<String, Integer> e : want.entrySet()) {
            List<Long> counts = seen.getOrDefault(e.getKey(), List.of());
            List<Long> expect = new ArrayList<>();
            for (long n = 1; n <= e.getValue(); n++) expect.add(n);
            if (!counts.equals(expect))
                throw new Compat.Fail(String.format("word '%s': read_committed counts %s, want 1..%d once each (%d of %d "
                                                    + "updates read in all)", e.getKey(), head(counts),
                                                    e.getValue(), got, total));
        }
        if (got != total) throw new Compat.Fail(String.format("%d count updates, want %d", got, total));
    }

    static boolean isInjected(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause())
            if (t instanceof IllegalStateException && String.valueOf(t.getMessage()).startsWith("injected")) return true;
        return false;
    }

    static String head(List<Long> v) {
        return v.size() <= 12 ? v.toString() : v.subList(0, 12) + "... (" + v.size() + ")";
    }
}
