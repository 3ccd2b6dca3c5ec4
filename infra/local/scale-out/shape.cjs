// The two shapes of the local network, as data: which processes run, on which ports, with which pid files. One source
// for infra/local/scale-out.sh (through `node shape.cjs env`), the fault suite and the network benchmark.
//
//   single     the network `npm start` runs: one broker, one process per service, .local/ (ports 8081-8084, 9092, ...)
//   scale-out  `npm run start:scale-out`: a 3-node KRaft cluster and two replicas of each service behind a front port,
//              in .local/scale-out/, on ports that do not clash with the single-node network (both can run at once)
//
// Port scheme of the scale-out shape (ADR 20): 10000 + the standard port, then 100 per replica or node; all below
// 32768, where Linux starts handing out ephemeral ports (a listener on 39092 once found a client's socket there):
//   front (the balancer, what callers use)  10000 + port         referral 18081, records-transfer 18082, ...
//   replica r of a service                  front + 100 r        referral replica 1 18181, replica 2 18281
//   Kafka node n                            + 100 (n - 1)        19092/19093, 19192/19193, 19292/19293
//   PostgreSQL 15432, Temporal 17233 (UI 18233), mail SMTP 11025 (inbox 18025), Notify 18026
'use strict';

const { join } = require('node:path');

/** Each service: its standard HTTP port and its database. */
const SERVICES = [
  { name: 'referral', port: 8081, database: 'referral' },
  { name: 'records-transfer', port: 8082, database: 'records_transfer' },
  { name: 'notification', port: 8083, database: 'notification' },
  { name: 'audit', port: 8084, database: 'audit' },
];

/** The scale-out port of a standard port, `step` hundreds above: (8081, 0) → 18081, (8081, 2) → 18281. */
const scaled = (port, step = 0) => {
  if (!Number.isInteger(step) || step < 0 || step > 4 || port < 1000 || port > 9999) {
    throw new RangeError(`no scale-out port for ${port} + ${step}00`);
  }
  return 10_000 + port + 100 * step;
};

/**
 * The plan of a shape. `root` is the checkout; `replicas` (1-4) and `brokers` (1-4) can be lowered to measure smaller
 * clusters with the same scripts (SCALE_OUT_REPLICAS, SCALE_OUT_BROKERS).
 */
function shape(name = 'single', { root = join(__dirname, '../../..'), replicas = 2, brokers = 3 } = {}) {
  if (name === 'single') {
    const local = join(root, '.local');
    return {
      name,
      local,
      services: SERVICES.map((s) => ({
        ...s,
        front: s.port,
        replicas: [{ id: s.name, port: s.port, pidFile: join(local, 'run', `${s.name}.pid`) }],
      })),
      kafka: {
        replicationFactor: 1,
        minInsyncReplicas: 1,
        nodes: [{ id: 1, instance: 'kafka', port: 9092, controllerPort: 9093, pidFile: join(local, 'run', 'kafka.pid') }],
      },
      postgres: { port: 5432 },
      temporal: { port: 7233, uiPort: 8233 },
      mail: { smtpPort: 1025, httpPort: 8025 },
      notify: { port: 8026 },
    };
  }
  if (name !== 'scale-out') throw new Error(`unknown shape ${name} (single or scale-out)`);
  if (!(replicas >= 1 && replicas <= 4)) throw new RangeError(`replicas ${replicas}: 1 to 4`);
  if (!(brokers >= 1 && brokers <= 4)) throw new RangeError(`brokers ${brokers}: 1 to 4`);
  const local = join(root, '.local/scale-out');
  const run = join(local, 'run');
  const replicationFactor = Math.min(3, brokers);
  return {
    name,
    local,
    services: SERVICES.map((s) => ({
      ...s,
      front: scaled(s.port),
      replicas: Array.from({ length: replicas }, (_, i) => ({
        id: `${s.name}-${i + 1}`,
        port: scaled(s.port, i + 1),
        pidFile: join(run, `${s.name}-${i + 1}.pid`),
      })),
    })),
    kafka: {
      replicationFactor,
      // One replica may be down and writes with acks=all still succeed; a lone broker can only require itself.
      minInsyncReplicas: replicationFactor >= 3 ? 2 : 1,
      nodes: Array.from({ length: brokers }, (_, i) => ({
        id: i + 1,
        instance: `kafka-${i + 1}`,
        port: scaled(9092, i),
        controllerPort: scaled(9093, i),
        pidFile: join(run, `kafka-${i + 1}.pid`),
      })),
    },
    postgres: { port: 15432 },
    temporal: { port: 17233, uiPort: 18233 },
    mail: { smtpPort: 11025, httpPort: 18025 },
    notify: { port: 18026 },
  };
}

/** Every TCP port a shape listens on (the check that two shapes can run side by side). */
function ports(s) {
  return [
    ...s.services.flatMap((x) => [x.front, ...x.replicas.map((r) => r.port)]),
    ...s.kafka.nodes.flatMap((n) => [n.port, n.controllerPort]),
    s.postgres.port,
    s.temporal.port,
    s.temporal.uiPort,
    s.mail.smtpPort,
    s.mail.httpPort,
    s.notify.port,
  ].filter((p, i, all) => all.indexOf(p) === i);
}

const bootstrap = (s) => s.kafka.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
const voters = (s) => s.kafka.nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(',');

/** Shell assignments for infra/local/scale-out.sh (`eval "$(node shape.cjs env)"`): plain words, no quoting needed. */
function shellEnv(s) {
  const lines = [
    `SHAPE_LOCAL=${s.local}`,
    `KAFKA_BOOTSTRAP=${bootstrap(s)}`,
    `KAFKA_VOTERS=${voters(s)}`,
    `KAFKA_RF=${s.kafka.replicationFactor}`,
    `KAFKA_MIN_ISR=${s.kafka.minInsyncReplicas}`,
    // id:port:controller-port per node
    `KAFKA_NODES=(${s.kafka.nodes.map((n) => `${n.id}:${n.port}:${n.controllerPort}`).join(' ')})`,
    // name:front:database:replica-port,replica-port per service
    `SHAPE_SERVICES=(${s.services.map((x) => `${x.name}:${x.front}:${x.database}:${x.replicas.map((r) => r.port).join(',')}`).join(' ')})`,
    `SHAPE_PGPORT=${s.postgres.port}`,
    `SHAPE_TEMPORAL_PORT=${s.temporal.port}`,
    `SHAPE_TEMPORAL_UI_PORT=${s.temporal.uiPort}`,
    `SHAPE_SMTP_PORT=${s.mail.smtpPort}`,
    `SHAPE_MAIL_HTTP_PORT=${s.mail.httpPort}`,
    `SHAPE_NOTIFY_PORT=${s.notify.port}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** The balancer's routes: a front port to its replicas. */
const routes = (s) => s.services.map((x) => ({ name: x.name, front: x.front, replicas: x.replicas.map((r) => r.port) }));

/**
 * The shape a checkout runs: for scale-out, the plan `scale-out.sh start` wrote (.local/scale-out/shape.json, so
 * smaller SCALE_OUT_REPLICAS/BROKERS runs are found too), else the default plan.
 */
function load(name = 'single', root = join(__dirname, '../../..')) {
  if (name === 'scale-out') {
    try {
      return JSON.parse(require('node:fs').readFileSync(join(root, '.local/scale-out/shape.json'), 'utf8'));
    } catch {
      // not started yet: the default plan
    }
  }
  return shape(name, { root });
}

module.exports = { shape, load, ports, bootstrap, voters, shellEnv, routes, scaled, SERVICES };

if (require.main === module) {
  const [cmd = 'env', name = 'scale-out'] = process.argv.slice(2);
  const s = shape(name, {
    root: process.env.SHAPE_ROOT ?? join(__dirname, '../../..'),
    replicas: Number(process.env.SCALE_OUT_REPLICAS ?? 2),
    brokers: Number(process.env.SCALE_OUT_BROKERS ?? 3),
  });
  if (cmd === 'env') process.stdout.write(shellEnv(s));
  else if (cmd === 'json') process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
  else {
    process.stderr.write('usage: shape.cjs env|json [single|scale-out]\n');
    process.exit(2);
  }
}
