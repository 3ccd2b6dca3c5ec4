import { TopicCatalogue } from '@sonet/contracts';
import { KafkaBroker } from '../kafka/kafka-broker';

/** Creates every topic of the catalogue that does not exist yet (the broker has auto-create off). */
async function main(): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const broker = new KafkaBroker({ brokers, clientId: 'sonet-provision-topics' });
  try {
    const created = await broker.ensureTopics(TopicCatalogue);
    process.stdout.write(created.length ? `created topics: ${created.join(', ')}\n` : `all ${TopicCatalogue.length} topics exist\n`);
  } finally {
    await broker.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`topic provisioning failed: ${(e as Error).message}\n`);
  process.exit(1);
});
