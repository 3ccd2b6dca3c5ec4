// The scale-out shape's plan (infra/local/scale-out/shape.cjs) and its balancer's choice of replica.
// The modules under test are infra/local's plain CommonJS scripts, not a project of the workspace.
// eslint-disable-next-line @nx/enforce-module-boundaries
const { shape, ports, bootstrap, voters, shellEnv, scaled } = require('../../infra/local/scale-out/shape.cjs') as {
  shape: (name?: string, options?: { root?: string; replicas?: number; brokers?: number }) => Shape;
  ports: (s: Shape) => number[];
  bootstrap: (s: Shape) => string;
  voters: (s: Shape) => string;
  shellEnv: (s: Shape) => string;
  scaled: (port: number, step?: number) => number;
};
// eslint-disable-next-line @nx/enforce-module-boundaries
const { Picker } = require('../../infra/local/scale-out/balancer.cjs') as {
  Picker: new (ports: number[]) => { mark(port: number, ready: boolean): void; order(): number[] };
};

interface Shape {
  name: string;
  local: string;
  services: { name: string; front: number; database: string; replicas: { id: string; port: number; pidFile: string }[] }[];
  kafka: {
    replicationFactor: number;
    minInsyncReplicas: number;
    nodes: { id: number; instance: string; port: number; controllerPort: number }[];
  };
  postgres: { port: number };
  temporal: { port: number; uiPort: number };
}

describe('the shapes of the local network', () => {
  const single = shape('single', { root: '/repo' });
  const scaleOut = shape('scale-out', { root: '/repo' });

  it('describes the single-node network as npm start runs it', () => {
    expect(single.services.map((s) => [s.name, s.front, s.replicas.map((r) => r.port)])).toEqual([
      ['referral', 8081, [8081]],
      ['records-transfer', 8082, [8082]],
      ['notification', 8083, [8083]],
      ['audit', 8084, [8084]],
    ]);
    expect(single.services[0]!.replicas[0]!.pidFile).toBe('/repo/.local/run/referral.pid');
    expect(single.kafka).toMatchObject({ replicationFactor: 1, minInsyncReplicas: 1, nodes: [{ port: 9092, controllerPort: 9093 }] });
  });

  it('runs two replicas of each service behind a front port, and three Kafka nodes with RF 3 and min ISR 2', () => {
    expect(scaleOut.services.map((s) => [s.name, s.front, s.replicas.map((r) => r.port)])).toEqual([
      ['referral', 18081, [18181, 18281]],
      ['records-transfer', 18082, [18182, 18282]],
      ['notification', 18083, [18183, 18283]],
      ['audit', 18084, [18184, 18284]],
    ]);
    expect(scaleOut.services[1]!.replicas[1]).toEqual({
      id: 'records-transfer-2',
      port: 18282,
      pidFile: '/repo/.local/scale-out/run/records-transfer-2.pid',
    });
    expect(scaleOut.kafka.replicationFactor).toBe(3);
    expect(scaleOut.kafka.minInsyncReplicas).toBe(2);
    expect(bootstrap(scaleOut)).toBe('127.0.0.1:19092,127.0.0.1:19192,127.0.0.1:19292');
    expect(voters(scaleOut)).toBe('1@127.0.0.1:19093,2@127.0.0.1:19193,3@127.0.0.1:19293');
  });

  it('can run beside the single-node network: no port in common, none twice, none in the ephemeral range', () => {
    const a = ports(single);
    const b = ports(scaleOut);
    expect(b.filter((p) => a.includes(p))).toEqual([]);
    expect(new Set(b).size).toBe(b.length);
    expect(b.length).toBe(4 * 3 + 3 * 2 + 6);
    // Linux hands out 32768-60999 to outgoing connections: a listener there can find its port taken.
    expect(Math.max(...b)).toBeLessThan(32768);
    expect(scaleOut.local).toBe('/repo/.local/scale-out');
  });

  it('shrinks for smaller measurements: one broker has replication factor 1, two have 2 with min ISR 1', () => {
    const one = shape('scale-out', { replicas: 1, brokers: 1 });
    expect(one.services.every((s) => s.replicas.length === 1)).toBe(true);
    expect(one.kafka).toMatchObject({ replicationFactor: 1, minInsyncReplicas: 1 });
    expect(shape('scale-out', { brokers: 2 }).kafka).toMatchObject({ replicationFactor: 2, minInsyncReplicas: 1 });
    expect(() => shape('scale-out', { replicas: 5 })).toThrow(RangeError);
    expect(() => shape('bigger')).toThrow(/unknown shape/);
    expect(() => scaled(8081, 5)).toThrow(RangeError);
  });

  it('hands the shell plain assignments', () => {
    const env = shellEnv(scaleOut);
    expect(env).toContain('KAFKA_NODES=(1:19092:19093 2:19192:19193 3:19292:19293)\n');
    expect(env).toContain('SHAPE_SERVICES=(referral:18081:referral:18181,18281 records-transfer:18082:records_transfer:18182,18282 ');
    expect(env).toContain('KAFKA_RF=3\nKAFKA_MIN_ISR=2\n');
    expect(env).not.toMatch(/["'$`]/);
  });
});

describe('the balancer', () => {
  it('takes the replicas in turn', () => {
    const p = new Picker([1, 2]);
    expect([p.order()[0], p.order()[0], p.order()[0], p.order()[0]]).toEqual([1, 2, 1, 2]);
  });

  it('tries a replica that is not ready last, and again once it is', () => {
    const p = new Picker([1, 2, 3]);
    p.mark(2, false);
    expect(p.order()).toEqual([1, 3, 2]);
    expect(p.order()).toEqual([3, 1, 2]);
    expect(p.order()).toEqual([3, 1, 2]);
    p.mark(2, true);
    expect(p.order()).toEqual([1, 2, 3]);
  });

  it('still tries every replica when none is ready', () => {
    const p = new Picker([1, 2]);
    p.mark(1, false);
    p.mark(2, false);
    expect(p.order()).toEqual([1, 2]);
    p.mark(9, true);
    expect(p.order()).toEqual([2, 1]);
  });
});
