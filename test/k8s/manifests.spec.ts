import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { TopicCatalogue } from '@sonet/contracts';

/**
 * The cluster manifests as kustomize renders them (infra/local/k8s-check.sh render, which kubeconform also
 * validates against the Kubernetes schemas in `npm test`): what a schema cannot say. Every service runs
 * replicated, probed, bounded and unprivileged, survives a node drain, and talks to the Kafka, topics and
 * databases the platform manifests declare — the topic list being the one libs/contracts declares.
 */

const ROOT = resolve(__dirname, '..', '..');

// Loose on purpose: the rendered manifests are read as data, each assertion names the field it needs.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Resource = Record<string, any>;

function render(dir: string): Resource[] {
  const out = execFileSync('bash', ['infra/local/k8s-check.sh', 'render', dir], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out) as Resource[];
}

const services = render('services');
const platform = render('platform');
const ofKind = (rs: Resource[], kind: string) => rs.filter((r) => r.kind === kind);
const deployments = ofKind(services, 'Deployment');
const jobs = ofKind(services, 'Job');
const SERVICE_NAMES = ['referral', 'records-transfer', 'notification', 'audit'];

const envOf = (container: Resource): Record<string, string | undefined> =>
  Object.fromEntries((container.env ?? []).map((e: Resource) => [e.name, e.value]));

describe('the services manifests (k8s/services)', () => {
  it('deploy the four services, each with its migration job, in the sonet namespace', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...SERVICE_NAMES].sort());
    expect(jobs.map((j) => j.metadata.name).sort()).toEqual(SERVICE_NAMES.map((s) => `${s}-migrate`).sort());
    for (const r of services) expect(r.metadata.namespace).toBe('sonet');
  });

  describe.each(SERVICE_NAMES)('%s', (name) => {
    const deployment = deployments.find((d) => d.metadata.name === name)!;
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;

    it('runs at least two replicas, spread across nodes', () => {
      expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
      expect(pod.topologySpreadConstraints?.[0]).toMatchObject({
        topologyKey: 'kubernetes.io/hostname',
        labelSelector: { matchLabels: deployment.spec.selector.matchLabels },
      });
    });

    it('has a PodDisruptionBudget that keeps a replica up and selects its pods', () => {
      const pdbs = ofKind(services, 'PodDisruptionBudget').filter(
        (p) => JSON.stringify(p.spec.selector.matchLabels) === JSON.stringify(deployment.spec.selector.matchLabels),
      );
      expect(pdbs).toHaveLength(1);
      const { minAvailable } = pdbs[0]!.spec;
      expect(minAvailable).toBeGreaterThanOrEqual(1);
      expect(minAvailable).toBeLessThan(deployment.spec.replicas);
    });

    it('is probed on its health endpoints (startup, readiness, liveness) through its named port', () => {
      expect(container.startupProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(container.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'http' });
      expect(container.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
      expect(container.ports).toContainEqual(expect.objectContaining({ name: 'http' }));
    });

    it('requests CPU and memory and is limited in memory', () => {
      expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      expect(container.resources.limits.memory).toEqual(expect.any(String));
    });

    it('runs unprivileged: non-root, read-only root filesystem with a bounded /tmp, no capabilities, no token', () => {
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(container.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: expect.any(String) } });
    });

    it('is reachable through a Service on its container port', () => {
      const svc = ofKind(services, 'Service').find((s) => s.metadata.name === name)!;
      expect(svc.spec.selector).toEqual(deployment.spec.selector.matchLabels);
      const port = container.ports.find((p: Resource) => p.name === 'http').containerPort;
      expect(svc.spec.ports).toContainEqual(expect.objectContaining({ port, targetPort: 'http' }));
      expect(envOf(container).HTTP_PORT).toBe(String(port));
    });

    it('has a migration job that runs as unprivileged, with bounded resources, the same image and database', () => {
      const job = jobs.find((j) => j.metadata.name === `${name}-migrate`)!;
      const jobPod = job.spec.template.spec;
      const [migrate] = jobPod.containers;
      expect(migrate.image).toBe(container.image);
      expect(jobPod.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(migrate.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      expect(migrate.resources.limits.memory).toEqual(expect.any(String));
      expect(envOf(migrate).PGDATABASE).toBe(envOf(container).PGDATABASE);
    });
  });

  it('use one image for every service and job', () => {
    const images = new Set([...deployments, ...jobs].flatMap((r) => r.spec.template.spec.containers.map((c: Resource) => c.image)));
    expect(images.size).toBe(1);
  });
});

describe('the platform manifests (k8s/platform) agree with the services and libs/contracts', () => {
  const kafka = ofKind(platform, 'Kafka')[0]!;

  it('declare exactly the topics of libs/contracts, with their partitions, replicated three times', () => {
    const topics = ofKind(platform, 'KafkaTopic').map((t) => ({
      name: t.spec.topicName,
      partitions: t.spec.partitions,
      retentionMs: t.spec.config['retention.ms'],
    }));
    expect(topics.sort((a, b) => a.name.localeCompare(b.name))).toEqual(
      TopicCatalogue.map((t) => ({ name: t.name, partitions: t.partitions, retentionMs: t.retentionMs })).sort((a, b) =>
        a.name.localeCompare(b.name),
      ),
    );
    for (const t of ofKind(platform, 'KafkaTopic')) {
      expect(t.spec.replicas).toBe(3);
      expect(t.spec.config['min.insync.replicas']).toBe(2);
    }
  });

  it('run Kafka on three nodes with topic auto-creation off and two in-sync replicas', () => {
    expect(ofKind(platform, 'KafkaNodePool')[0]!.spec.replicas).toBe(3);
    expect(kafka.spec.kafka.config).toMatchObject({ 'auto.create.topics.enable': false, 'min.insync.replicas': 2 });
  });

  it('give the services a Kafka listener on the port they connect to', () => {
    const ports = new Set(kafka.spec.kafka.listeners.map((l: Resource) => l.port));
    for (const d of deployments) {
      const brokers = envOf(d.spec.template.spec.containers[0]).KAFKA_BROKERS ?? '';
      expect(brokers).toMatch(new RegExp(`^${kafka.metadata.name}-kafka-bootstrap:\\d+$`));
      expect(ports).toContain(Number(brokers.split(':')[1]));
    }
  });

  it("create every service's database in the PostgreSQL cluster the services connect to", () => {
    const cluster = ofKind(platform, 'Cluster')[0]!;
    const databases = new Set([
      cluster.spec.bootstrap.initdb.database,
      ...ofKind(platform, 'Database')
        .filter((d) => d.spec.cluster.name === cluster.metadata.name)
        .map((d) => d.spec.name),
    ]);
    for (const d of deployments) {
      const env = envOf(d.spec.template.spec.containers[0]);
      expect(env.PGHOST).toBe(`${cluster.metadata.name}-rw`);
      expect(databases).toContain(env.PGDATABASE);
    }
  });
});

describe('the console manifests (k8s/console)', () => {
  const consoleResources = render('console');
  const [deployment] = ofKind(consoleResources, 'Deployment');
  const container = deployment!.spec.template.spec.containers[0];
  const env = envOf(container);

  it('run the console from the services image, unprivileged, probed and bounded', () => {
    expect(container.image).toBe(deployments[0]!.spec.template.spec.containers[0].image);
    expect(container.command).toContain('dist/services/console/src/main.js');
    expect(deployment!.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
    expect(container.resources.limits.memory).toEqual(expect.any(String));
  });

  it('sign in through OpenID Connect in production, with the session secret from a Secret', () => {
    expect(env.NODE_ENV).toBe('production');
    expect(env.CONSOLE_AUTH_MODE).toBe('oidc');
    const secretNames = (container.env as Resource[]).filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.name);
    expect(secretNames).toEqual(expect.arrayContaining(['CONSOLE_SESSION_SECRET', 'OIDC_CLIENT_SECRET']));
  });

  it('call each service at its in-cluster Service and port', () => {
    const serviceObjects = ofKind(services, 'Service');
    for (const [variable, name] of [
      ['REFERRAL_API_URL', 'referral'],
      ['RECORDS_TRANSFER_API_URL', 'records-transfer'],
      ['NOTIFICATION_API_URL', 'notification'],
      ['AUDIT_API_URL', 'audit'],
    ]) {
      const service = serviceObjects.find((s) => s.metadata.name === name)!;
      expect(env[variable]).toBe(`http://${name}:${service.spec.ports[0].port}`);
    }
  });
});
