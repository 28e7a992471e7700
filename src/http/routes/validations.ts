import { Type } from 'typebox';
import { invalidField } from '../../domain/errors.js';
import { VERDICT_RULE } from '../../services/validations.js';
import { principalOf } from '../auth-plugin.js';
import { errorResponses, NullableString } from '../schemas.js';
import type { FastifyTypeBoxInstance, RouteDeps } from '../types.js';

export async function validationRoutes(app: FastifyTypeBoxInstance, { services, guards }: RouteDeps) {
  app.post(
    '/v1/validations',
    {
      onRequest: guards.requireRole('events:publish'),
      schema: {
        tags: ['Validations'],
        summary: 'Call the matching validation webhooks now and answer with each result',
        description: `Every enabled webhook of kind \`validation\` whose event types, account, object type and criteria match is called in parallel, once, within its timeoutMs. Verdict: ${VERDICT_RULE}.`,
        body: Type.Object(
          {
            type: Type.String({ minLength: 1, maxLength: 128 }),
            objectType: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
            accountId: Type.Optional(NullableString(64)),
            account: Type.Optional(Type.String({ maxLength: 64, description: 'alias of accountId' })),
            payload: Type.Unknown(),
          },
          { additionalProperties: false, required: ['type', 'payload'] },
        ),
        response: errorResponses,
      },
    },
    async (request) => {
      const { account, accountId, ...rest } = request.body;
      if (account !== undefined && accountId != null && account !== accountId) {
        throw invalidField('body.account', 'differs from body.accountId; send one of them');
      }
      return services.validations.validate(principalOf(request), { ...rest, accountId: accountId ?? account ?? null });
    },
  );
}
