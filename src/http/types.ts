import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Config } from '../config/config.js';
import type { Db } from '../db/connect.js';
import type { Authenticator } from '../services/auth.js';
import type { BatchService } from '../services/batches.js';
import type { DeliveryService } from '../services/deliveries.js';
import type { EventTypeService } from '../services/event-types.js';
import type { PublishService } from '../services/publish.js';
import type { TenancyService } from '../services/tenancy.js';
import type { ValidationService } from '../services/validations.js';
import type { WebhookService } from '../services/webhooks.js';
import type { Guards } from './auth-plugin.js';

export type FastifyTypeBoxInstance = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface AppServices {
  auth: Authenticator;
  tenancy: TenancyService;
  webhooks: WebhookService;
  eventTypes: EventTypeService;
  publish: PublishService;
  deliveries: DeliveryService;
  batches: BatchService;
  validations: ValidationService;
}

export interface RouteDeps {
  services: AppServices;
  guards: Guards;
  db: Db;
  config: Config;
}
