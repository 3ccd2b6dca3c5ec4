import type { Provider } from '@nestjs/common';
import { DeadLetters, MESSAGE_BROKER, type MessageBroker } from '@sonet/messaging';
import { DeadLettersHandler } from './dead-letters.handler';
import { OperationsController } from './operations.http.controller';
import { StuckHandler } from './stuck.handler';

/** The operations API's parts, listed in the app module (which holds the config, the Temporal client and the ORM). */
export const operationsController = OperationsController;
export const operationsProviders: Provider[] = [
  { provide: DeadLetters, inject: [MESSAGE_BROKER], useFactory: (broker: MessageBroker) => new DeadLetters(broker) },
  DeadLettersHandler,
  StuckHandler,
];
