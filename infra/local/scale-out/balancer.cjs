// The scale-out shape's front door (what a Kubernetes Service or a hospital's load balancer does in a deployment): one
// TCP port per service, each new connection handed to the next ready replica in turn. A replica is ready while its
// GET /health/ready answers 200 (checked every BALANCER_CHECK_MS, 1 s); a replica that refuses a connection is left
// out at once until its next good check. When no replica is ready, every replica is tried in turn.
//
//   node infra/local/scale-out/balancer.cjs     routes from the running shape (.local/scale-out/shape.json)
//
// TCP, not HTTP: a keep-alive connection stays with its replica; killing the replica ends it and the caller reconnects
// (to the other replica). Started and supervised by infra/local/scale-out.sh; development only.
'use strict';

const net = require('node:net');
const http = require('node:http');

/** Round-robin over replicas, ready ones first. Pure: the balancer's choice, tested on its own. */
class Picker {
  constructor(ports) {
    this.ports = [...ports];
    this.ready = new Map(this.ports.map((p) => [p, true]));
    this.next = 0;
  }

  /** Marks a replica ready or not (health check, or a refused connection). */
  mark(port, ready) {
    if (this.ready.has(port)) this.ready.set(port, ready);
  }

  /** The order in which to try the replicas for one connection: ready ones from the next in turn, then the others. */
  order() {
    const n = this.ports.length;
    const start = this.next;
    this.next = (this.next + 1) % n;
    const turn = Array.from({ length: n }, (_, i) => this.ports[(start + i) % n]);
    return [...turn.filter((p) => this.ready.get(p)), ...turn.filter((p) => !this.ready.get(p))];
  }
}

const HOST = '127.0.0.1';

/** Connects to the first replica of `order` that accepts; undefined when none does. */
function connectFirst(order, picker) {
  return new Promise((resolve) => {
    const attempt = (i) => {
      if (i >= order.length) return resolve(undefined);
      const upstream = net.connect({ host: HOST, port: order[i] });
      upstream.once('connect', () => {
        upstream.removeAllListeners('error');
        resolve(upstream);
      });
      upstream.once('error', () => {
        picker.mark(order[i], false);
        upstream.destroy();
        attempt(i + 1);
      });
    };
    attempt(0);
  });
}

function front(route, log) {
  const picker = new Picker(route.replicas);
  const server = net.createServer((client) => {
    client.pause();
    client.on('error', () => undefined);
    void connectFirst(picker.order(), picker).then((upstream) => {
      if (!upstream) {
        client.destroy();
        return;
      }
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  });
  const check = () => {
    for (const port of route.replicas) {
      const req = http.get({ host: HOST, port, path: '/health/ready', timeout: 2_000 }, (res) => {
        res.resume();
        const ready = res.statusCode === 200;
        if (ready !== picker.ready.get(port)) log(`${route.name} replica :${port} ${ready ? 'ready' : 'NOT ready'}`);
        picker.mark(port, ready);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => {
        if (picker.ready.get(port)) log(`${route.name} replica :${port} NOT ready (no answer)`);
        picker.mark(port, false);
      });
    }
  };
  const timer = setInterval(check, Number(process.env.BALANCER_CHECK_MS ?? 1_000));
  check();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(route.front, HOST, () => {
      log(`${route.name} on ${HOST}:${route.front} → ${route.replicas.map((p) => `:${p}`).join(' ')}`);
      resolve({ close: () => (clearInterval(timer), server.close()) });
    });
  });
}

module.exports = { Picker, front };

if (require.main === module) {
  const { load, routes } = require('./shape.cjs');
  const log = (m) => process.stderr.write(`${new Date().toISOString()} [balancer] ${m}\n`);
  const fronts = Promise.all(routes(load('scale-out')).map((r) => front(r, log)));
  fronts.catch((e) => {
    log(`cannot listen: ${e.message}`);
    process.exit(1);
  });
  const stop = () => fronts.then((fs) => fs.forEach((f) => f.close())).finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
