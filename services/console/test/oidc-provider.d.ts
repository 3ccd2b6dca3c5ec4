// oidc-provider ships no types; @types/oidc-provider would bring a dozen Koa/Express type packages for one test.
// Only what services/console/src/sign-in/oidc.int.spec.ts uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  export interface Interaction {
    uid: string;
    prompt: { name: string };
    params: Record<string, unknown>;
  }

  export interface ProviderContext {
    oidc: { params?: Record<string, unknown> };
  }

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    readonly Grant: {
      new (init: { accountId: string; clientId: string }): { addOIDCScope(scope: string): void; save(): Promise<string> };
      find(id: string): Promise<{ destroy(): Promise<void> } | undefined>;
    };
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    on(event: 'grant.success', listener: (ctx: ProviderContext) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
}
