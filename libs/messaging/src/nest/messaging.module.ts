import {
  Inject,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type FactoryProvider,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import { KafkaBroker } from '../kafka/kafka-broker';
import { OutboxRelay } from '../outbox/relay';
import { observeOutbox } from '../metrics';
import { MESSAGE_BROKER, type MessageBroker } from '../port';

export interface MessagingModuleOptions {
  /** Kafka client id: the service name. */
  readonly clientId: string;
  readonly inject: FactoryProvider['inject'];
  /** Returns the broker list from the service's validated config. */
  readonly brokers: (...deps: never[]) => readonly string[];
}

/** Publishes the service's outbox to Kafka for as long as the app runs; stops cleanly so nothing is re-sent. */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelayService.name);
  private relay: OutboxRelay | undefined;

  constructor(
    private readonly orm: MikroORM,
    @Inject(MESSAGE_BROKER) private readonly broker: MessageBroker,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const publisher = await this.broker.publisher();
    const db = this.orm.config;
    this.relay = new OutboxRelay(this.orm, publisher, {
      onError: (e) => this.logger.warn({ err: e }, 'outbox relay failed a batch or lost its notifications; retrying'),
      // The same database as the ORM's: commit notifications wake the relay (MESSAGING_SCHEMA_V2_OUTBOX_WRITTEN).
      listen: {
        host: db.get('host'),
        port: db.get('port'),
        user: db.get('user'),
        password: db.get('password') as string | undefined,
        database: db.get('dbName'),
        connectionTimeoutMillis: 3_000,
      },
    });
    this.relay.start();
    const relay = this.relay;
    observeOutbox(() => relay.pending());
  }

  backlog(): Promise<number> {
    return this.relay ? this.relay.backlog() : Promise.resolve(0);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay?.stop();
    await this.broker.close();
  }
}

@Module({})
export class MessagingModule {
  static forRoot(options: MessagingModuleOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      providers: [
        {
          provide: MESSAGE_BROKER,
          inject: options.inject ?? [],
          useFactory: (...deps: never[]) => {
            const logger = new Logger('Kafka');
            return new KafkaBroker({
              brokers: options.brokers(...deps),
              clientId: options.clientId,
              log: (level, message, extra) => logger[level === 'info' ? 'log' : level](extra, message),
            });
          },
        },
        OutboxRelayService,
      ],
      exports: [MESSAGE_BROKER, OutboxRelayService],
    };
  }
}
