#!/usr/bin/env node
// Compat client: kafkajs (pure JavaScript). It speaks the matrix runner's protocol
// (tests/compat/py/compat_common.py): --bootstrap B --prefix P --scenarios s1,s2 prints a JSON line
// when each scenario starts and one with its result; --version prints kafkajs's version.
// kafkajs is installed by tests/compat/run.py from package-lock.json into the cache (NODE_PATH),
// never into the repo. kafkajs has no partition-assign consumer: every read is a group consumer,
// and snappy/lz4/zstd need codec plugin packages, which a default install lacks (skips).
'use strict';

const { Kafka, logLevel, CompressionTypes, ConfigResourceTypes } = require('kafkajs');

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--version') args.version = true;
  else args[a.replace(/^--/, '')] = process.argv[++i];
}
const TIMEOUT_MS = parseFloat(process.env.COMPAT_SCENARIO_TIMEOUT || '20') * 1000;

class Fail extends Error {
  constructor(msg, cause) { super(msg); this.cause = cause; }
}
class Skip extends Error {}

let scenario = '';
let deadline = 0;
const name = (what) => `${args.prefix}-${scenario.replace(/\./g, '-')}${what ? '-' + what : ''}`;
const left = () => Math.max(0, deadline - Date.now());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const values = (p, n, sfx = '') => Array.from({ length: n }, (_, i) => `${p}${i}${sfx}`);

async function waitUntil(what, fn) {
  let last;
  for (;;) {
    try {
      if (await fn()) return;
    } catch (e) {
      if (e instanceof Fail || e instanceof Skip) throw e;
      last = e;
    }
    if (left() <= 0) throw new Fail(`timed out waiting for ${what}${last ? ': ' + last.message : ''}`);
    await sleep(200);
  }
}

function checkValues(got, want, what) {
  const a = [...got].sort().join(','), b = [...want].sort().join(',');
  if (a === b) return;
  const missing = want.filter((w) => !got.includes(w));
  throw new Fail(`${what}: got ${got.length} values, want ${want.length} (${missing.length} missing e.g. ${missing.slice(0, 2)})`);
}

// The secure scenarios: listener, TLS and SASL from the runner's $COMPAT_SECURITY file.
const SECURE = {
  'secure.ssl': ['SSL', null], 'secure.sasl_ssl.scram256': ['SASL_SSL', 'scram-sha-256'],
  'secure.sasl_ssl.scram512': ['SASL_SSL', 'scram-sha-512'], 'secure.sasl_ssl.plain': ['SASL_SSL', 'plain'],
  'secure.sasl_plaintext.scram512': ['SASL_PLAINTEXT', 'scram-sha-512'], 'secure.badpass': ['SASL_SSL', 'scram-sha-256', true],
  'secure.noacl': ['SASL_SSL', 'scram-sha-512'],
};
// { broker, ssl, sasl, bad, noacl } while a secure scenario runs; kafka() reads it when it makes a
// client, so secure.noacl switches security.sasl between the super user and noacl (the user no
// ACL names).
let security = null;

function secureFor(s) {
  const row = SECURE[s];
  if (!row) throw new Skip('scenario not implemented by this client');
  if (!process.env.COMPAT_SECURITY) throw new Skip('the target has no secure listeners (no TLS material)');
  const info = JSON.parse(require('fs').readFileSync(process.env.COMPAT_SECURITY, 'utf8'));
  const [proto, mechanism, bad] = row;
  const plain = mechanism === 'plain';
  return {
    broker: info[proto], bad: !!bad, noacl: { mechanism, username: info.noacl_user, password: info.noacl_password },
    ssl: proto.includes('SSL') ? { ca: [require('fs').readFileSync(info.ca)] } : undefined,
    sasl: mechanism ? { mechanism, username: info[plain ? 'plain_user' : 'user'],
                        password: bad ? 'wrong-password' : info[plain ? 'plain_password' : 'password'] } : undefined,
  };
}

const kafka = () => new Kafka({
  clientId: 'samsa-compat', brokers: [security ? security.broker : args.bootstrap], logLevel: logLevel.NOTHING,
  connectionTimeout: 5000, requestTimeout: 10000, retry: { retries: 3, initialRetryTime: 200 },
  ...(security && security.ssl ? { ssl: security.ssl } : {}), ...(security && security.sasl ? { sasl: security.sasl } : {}),
});

async function produce(topic, vals, { acks = -1, codec = 'none', partition, idempotent = false } = {}) {
  const p = kafka().producer({ allowAutoTopicCreation: true, idempotent, ...(idempotent ? { maxInFlightRequests: 1 } : {}) });
  await p.connect();
  try {
    const compression = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP }[codec];
    await p.send({ topic, acks, compression, messages: vals.map((v) => ({ key: v, value: v, partition })) });
  } catch (e) {
    throw new Fail(`delivery failed: ${e.message}`, e);
  } finally {
    await p.disconnect();
  }
}

// Reads with a group consumer (kafkajs has no other kind); optional seek to one offset.
async function groupRead(topic, group, n, { extraMs = 0, seek, commit = false, readUncommitted = false } = {}) {
  const c = kafka().consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 1000, allowAutoTopicCreation: false, readUncommitted });
  const got = [];
  const next = {};
  let crashed = null;
  c.on(c.events.CRASH, (e) => { crashed = e.payload.error; });
  await c.connect();
  try {
    await c.subscribe({ topics: [topic], fromBeginning: true });
    await c.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        got.push(message.value.toString());
        next[partition] = (BigInt(message.offset) + 1n).toString();
      },
    });
    if (seek) c.seek({ topic, partition: seek.partition, offset: String(seek.offset) });
    await waitUntil(`${n} messages`, () => {
      if (crashed) throw new Fail(`consumer crashed: ${crashed.message}`, crashed);
      return got.length >= n;
    });
    if (extraMs) await sleep(extraMs);
    if (commit) {
      await c.commitOffsets(Object.entries(next).map(([partition, offset]) => ({ topic, partition: Number(partition), offset })));
    }
  } finally {
    await c.disconnect();
  }
  return got;
}

async function withAdmin(fn) {
  const a = kafka().admin();
  await a.connect();
  try {
    return await fn(a);
  } finally {
    await a.disconnect();
  }
}

async function partitionCount(a, topic) {
  const md = await a.fetchTopicMetadata({ topics: [topic] });
  return md.topics[0].partitions.length;
}

async function topicConfig(a, topic, key) {
  const r = await a.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
  const e = r.resources[0].configEntries.find((x) => x.configName === key);
  if (!e) throw new Fail(`DescribeConfigs has no ${key}`);
  return e.configValue;
}

async function create(a, topic) {
  try {
    await a.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '604800000' }] }] });
  } catch (e) {
    throw new Fail(`CreateTopics: ${e.message}`);
  }
  let n = 0;
  await waitUntil('topic in metadata', async () => (n = await partitionCount(a, topic)) > 0);
  if (n !== 2) throw new Fail(`created topic has ${n} partitions, want 2`);
}

// ---- transactions (KIP-98) ----------------------------------------------------------------------

async function txnProducer(txid) {
  const p = kafka().producer({ transactionalId: txid, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60000 });
  await p.connect();
  return p;
}

// A topic that exists before a transaction adds its partitions: one plain 'seed' record.
async function txnTopic() {
  const topic = name('');
  await produce(topic, ['seed']);
  return topic;
}

async function inTxn(p, topic, vals, commit) {
  const t = await p.transaction();
  await t.send({ topic, acks: -1, messages: vals.map((v) => ({ key: v, value: v })) });
  if (commit) await t.commit(); else await t.abort();
}

const txnScenarios = {
  'txn.commit': async () => {
    const topic = await txnTopic();
    const p = await txnProducer(name('tx'));
    const vals = values('t', 20);
    try { await inTxn(p, topic, vals, true); } finally { await p.disconnect(); }
    checkValues(await groupRead(topic, name('rc'), 21, { extraMs: 500 }), [...vals, 'seed'], 'read_committed after the commit');
  },
  'txn.abort': async () => {
    const topic = await txnTopic();
    const p = await txnProducer(name('tx'));
    const aborted = values('a', 10), committed = values('c', 10);
    try {
      await inTxn(p, topic, aborted, false);
      await inTxn(p, topic, committed, true);
    } finally { await p.disconnect(); }
    checkValues(await groupRead(topic, name('rc'), 11, { extraMs: 500 }), [...committed, 'seed'],
      'read_committed: only the committed transaction');
    checkValues(await groupRead(topic, name('ru'), 21, { extraMs: 500, readUncommitted: true }),
      [...aborted, ...committed, 'seed'], 'read_uncommitted: both transactions');
  },
  'txn.fence': async () => {
    const topic = await txnTopic();
    const txid = name('tx');
    const a = await txnProducer(txid);
    const winners = values('winner', 5);
    let b;
    try {
      const ta = await a.transaction();
      await ta.send({ topic, acks: -1, messages: values('zombie', 5).map((v) => ({ key: v, value: v })) });
      b = await txnProducer(txid);
      await inTxn(b, topic, winners, true); // its InitProducerId fences a
      let fenced = false;
      try { await ta.commit(); } catch (e) { fenced = true; }
      if (!fenced) throw new Fail("the fenced producer's commit succeeded");
    } finally {
      await a.disconnect().catch(() => {});
      if (b) await b.disconnect();
    }
    checkValues(await groupRead(topic, name('rc'), 6, { extraMs: 500 }), [...winners, 'seed'],
      "read_committed: only the new instance's records");
  },
  read_committed: async () => {
    const topic = await txnTopic();
    const p = await txnProducer(name('tx'));
    const vals = values('o', 10);
    const c = kafka().consumer({ groupId: name('rc'), sessionTimeout: 10000, heartbeatInterval: 1000 });
    const got = [];
    await c.connect();
    try {
      const t = await p.transaction();
      await t.send({ topic, acks: -1, messages: vals.map((v) => ({ key: v, value: v })) });
      await c.subscribe({ topics: [topic], fromBeginning: true });
      await c.run({ autoCommit: false, eachMessage: async ({ message }) => { got.push(message.value.toString()); } });
      await waitUntil('the seed record', () => got.length >= 1);
      await sleep(2000);
      if (got.join(',') !== 'seed') throw new Fail(`read_committed saw ${got.slice(0, 3)} before the commit`);
      await t.commit();
      await waitUntil('the committed records', () => got.length >= 11);
      await sleep(500);
    } finally {
      await c.disconnect();
      await p.disconnect();
    }
    checkValues(got, [...vals, 'seed'], 'read_committed after the commit');
  },
};

const scenarios = {
  async metadata() {
    await withAdmin(async (a) => {
      const c = await a.describeCluster();
      if (!c.brokers.length) throw new Fail('metadata lists no brokers');
    });
  },
  async fetch() {
    const topic = name(''), vals = values('f', 50);
    await produce(topic, vals, { partition: 0 });
    const got = await groupRead(topic, name('r1'), 50);
    if (got.join() !== vals.join()) throw new Fail(`from offset 0: got ${got.slice(0, 3)}... (${got.length})`);
    const got2 = await groupRead(topic, name('r2'), 25, { seek: { partition: 0, offset: 25 } });
    if (got2.slice(0, 25).join() !== vals.slice(25).join()) throw new Fail(`from offset 25 (inside a batch): got ${got2.slice(0, 3)}...`);
  },
  async 'group.join'() {
    const topic = name(''), vals = values('g', 30);
    await produce(topic, vals);
    checkValues(await groupRead(topic, name('group'), 30), vals, 'group consume');
  },
  async 'group.rebalance'() {
    const topic = name(''), group = name('group');
    await produce(topic, values('r', 6));
    const nparts = await withAdmin((a) => partitionCount(a, topic));
    if (nparts < 2) throw new Skip(`auto-created topic has ${nparts} partition(s); rebalance needs 2+`);
    const members = [0, 1].map(() => {
      const c = kafka().consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 1000, rebalanceTimeout: 10000 });
      const m = { c, parts: [] };
      c.on(c.events.GROUP_JOIN, (e) => { m.parts = e.payload.memberAssignment[topic] || []; });
      return m;
    });
    try {
      const start = async (m) => {
        await m.c.connect();
        await m.c.subscribe({ topics: [topic], fromBeginning: true });
        await m.c.run({ eachMessage: async () => {} });
      };
      await start(members[0]);
      await waitUntil("first member's assignment", () => members[0].parts.length > 0);
      await start(members[1]);
      await waitUntil(`both members assigned disjoint partitions covering all ${nparts}`, () => {
        const [a, b] = members.map((m) => m.parts);
        const all = new Set([...a, ...b]);
        return a.length && b.length && all.size === nparts && a.length + b.length === nparts;
      });
    } finally {
      await Promise.all(members.map((m) => m.c.disconnect()));
    }
  },
  async 'group.commit'() {
    const topic = name(''), group = name('group'), vals = values('c', 30);
    await produce(topic, vals);
    checkValues(await groupRead(topic, group, 30, { commit: true }), vals, 'group consume');
    const offs = await withAdmin((a) => a.fetchOffsets({ groupId: group, topics: [topic] }));
    const sum = offs[0].partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
    if (sum !== 30) throw new Fail(`committed offsets sum to ${sum}, want 30`);
    return { topic, group };
  },
  async 'group.resume'() {
    const { topic, group } = await scenarios['group.commit']();
    const second = values('b', 10);
    await produce(topic, second);
    checkValues(await groupRead(topic, group, 10, { extraMs: 1000 }), second, 'resumed consume (only the 10 new messages)');
  },
  async 'admin.create'() {
    await withAdmin((a) => create(a, name('')));
  },
  async 'admin.describe'() {
    await withAdmin(async (a) => {
      await create(a, name(''));
      const v = await topicConfig(a, name(''), 'retention.ms');
      if (v !== '604800000') throw new Fail(`retention.ms = ${v}, want 604800000`);
    });
  },
  async 'admin.alter'() {
    await withAdmin(async (a) => {
      const topic = name('');
      await create(a, topic);
      await a.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '86400000' }] }] });
      await waitUntil('retention.ms=86400000', async () => (await topicConfig(a, topic, 'retention.ms')) === '86400000');
      await a.createPartitions({ topicPartitions: [{ topic, count: 3 }] });
      await waitUntil('3 partitions', async () => (await partitionCount(a, topic)) === 3);
    });
  },
  async 'admin.delete'() {
    await withAdmin(async (a) => {
      const topic = name('');
      await create(a, topic);
      await a.deleteTopics({ topics: [topic], timeout: 10000 });
      await waitUntil('topic gone from the topic list', async () => !(await a.listTopics()).includes(topic));
    });
  },
  async idempotent() {
    const topic = name(''), vals = values('i', 50);
    await produce(topic, vals, { partition: 0, idempotent: true });
    const got = await groupRead(topic, name('r'), 50, { extraMs: 500 });
    if (got.join() !== vals.join()) throw new Fail(`read back ${got.slice(0, 3)}... (${got.length}), want i0..i49 once each in order`);
  },
};

// kafkajs's authorization errors: KafkaJSProtocolError type TOPIC_/GROUP_AUTHORIZATION_FAILED, as
// it is or as the cause of the KafkaJSNonRetriableError its retrier gives up with; produce() and
// groupRead() keep it as the cause of their Fail.
function authzType(e) {
  for (let c = e; c; c = c.cause) {
    if (/^(TOPIC|GROUP)_AUTHORIZATION_FAILED$/.test(c.type || '')) return c.type;
  }
  return null;
}

// secure.noacl (tests/compat/README.md): the super user writes 3 records; noacl's produce and its
// group read must fail with kafkajs's authorization error and return nothing; then the super user
// writes a marker and reads through a new group exactly its records and the marker (2 s more).
async function noAcl() {
  const topic = name(''), vals = values('a', 3, '-noacl'), admin = security.sasl;
  await produce(topic, vals);
  checkValues(await groupRead(topic, name('r'), vals.length), vals, 'written and read back by the super user');
  security.sasl = security.noacl;
  const attempts = [['produce', () => produce(topic, ['must-not-land'])],
                    ['group read', () => groupRead(topic, name('g-noacl'), 1)]];
  for (const [what, attempt] of attempts) {
    let got;
    try {
      got = await attempt();
    } catch (e) {
      if (!authzType(e)) throw new Fail(`${what} without an ACL failed, but not with an authorization error: ${e.message}`);
      continue;
    }
    throw new Fail(`${what} without an ACL succeeded${got ? ` (read ${got})` : ''}`);
  }
  security.sasl = admin;
  await produce(topic, ['z-marker-noacl']);
  checkValues(await groupRead(topic, name('g-admin'), 4, { extraMs: 2000 }), [...vals, 'z-marker-noacl'],
    "the super user's records, none of noacl's");
}

async function secureRoundtrip(s) {
  security = secureFor(s);
  try {
    if (s === 'secure.noacl') return await noAcl();
    const topic = name(''), vals = values('s', 10, '-' + s.replace(/\./g, '_'));
    try {
      await produce(topic, vals);
    } catch (e) {
      if (security.bad && /authentication|SASL/i.test(e.message)) return;
      throw e;
    }
    if (security.bad) throw new Fail('a wrong password was accepted');
    checkValues(await groupRead(topic, name('r'), vals.length), vals, 'read back');
  } finally {
    security = null;
  }
}

async function runOne(s) {
  if (s.startsWith('secure.')) return secureRoundtrip(s);
  const m = /^produce\.acks(0|1|all)\.(none|gzip|snappy|lz4|zstd)$/.exec(s);
  if (m) {
    if (!['none', 'gzip'].includes(m[2])) throw new Skip(`kafkajs has no built-in ${m[2]} codec (needs a plugin package)`);
    const topic = name(''), vals = values('v', 20, '-' + m[2]);
    const want = [...vals];
    if (m[1] === '0') { // see WARM in tests/compat/py/compat_common.py
      await produce(topic, ['w0']);
      want.unshift('w0');
    }
    await produce(topic, vals, { acks: m[1] === 'all' ? -1 : Number(m[1]), codec: m[2] });
    checkValues(await groupRead(topic, name('r'), want.length), want, 'read back');
    return;
  }
  const fn = scenarios[s] || txnScenarios[s];
  if (!fn) throw new Skip('scenario not implemented by this client');
  await fn();
}

const oneLine = (s) => { s = String(s).replace(/\s+/g, ' ').trim(); return s.length > 300 ? s.slice(0, 297) + '...' : s; };
const emit = (o) => process.stdout.write(JSON.stringify(o) + '\n');

async function main() {
  if (args.version) {
    console.log('kafkajs ' + require('kafkajs/package.json').version);
    return;
  }
  for (const s of (args.scenarios || '').split(',').filter(Boolean)) {
    scenario = s;
    deadline = Date.now() + TIMEOUT_MS;
    emit({ start: s });
    let status = 'pass', reason = '';
    try {
      await Promise.race([runOne(s), sleep(TIMEOUT_MS + 5000).then(() => { throw new Fail('scenario did not finish'); })]);
    } catch (e) {
      status = e instanceof Skip ? 'skip' : 'fail';
      reason = e instanceof Fail || e instanceof Skip ? e.message : `${e.name}: ${e.message}`;
    }
    emit({ scenario: s, status, reason: oneLine(reason) });
  }
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
