import { Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { Client, Connection, type DataConverter } from '@temporalio/client';
import { tracingClientInterceptors } from './tracing-interceptors';

/** DI token of the Temporal client. */
export const TEMPORAL_CLIENT = Symbol('TemporalClient');

@Injectable()
class TemporalConnectionCloser implements OnApplicationShutdown {
  private readonly logger = new Logger('TemporalClient');
  constructor(private readonly client: Client) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.connection.close().catch((e: unknown) => this.logger.warn({ err: e }, 'closing the Temporal connection failed'));
  }
}

@Module({})
export class TemporalClientModule {
  /** A global Temporal client for starting, signalling and querying workflows; closed on shutdown. */
  static forRoot(options: { address: string; namespace: string; dataConverter?: DataConverter }): DynamicModule {
    return {
      module: TemporalClientModule,
      global: true,
      providers: [
        {
          provide: TEMPORAL_CLIENT,
          useFactory: async () => {
            const connection = await Connection.connect({ address: options.address, connectTimeout: '5s' });
            return new Client({
              connection,
              namespace: options.namespace,
              interceptors: tracingClientInterceptors(),
              ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
            });
          },
        },
        { provide: TemporalConnectionCloser, inject: [TEMPORAL_CLIENT], useFactory: (c: Client) => new TemporalConnectionCloser(c) },
      ],
      exports: [TEMPORAL_CLIENT],
    };
  }
}
