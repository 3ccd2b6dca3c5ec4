import { Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type DataConverter } from '@temporalio/client';
import { tracingClientInterceptors } from './tracing-interceptors';

/**
 * Attempts of one Temporal call that meets an unavailable server (the SDK's default, 10, backs off for about 20 s):
 * 4 take about 0.6 s, so a request that needs Temporal while it is down is answered 503 at once; the caller retries.
 */
export const TEMPORAL_RPC_ATTEMPTS = 4;

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
            const connection = await Connection.connect({
              address: options.address,
              connectTimeout: '5s',
              interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: TEMPORAL_RPC_ATTEMPTS }))],
              // After losing the server gRPC reconnects with a back-off that grows to 2 min by default: at most 2 s here,
              // so calls succeed again within seconds of Temporal coming back.
              channelArgs: { 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 2_000 },
            });
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
