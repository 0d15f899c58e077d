import type { FastifyInstance } from 'fastify';
import { backchannelResponse, logoutTokenFromBody, MAX_FORM_BYTES } from '../../oidc/form.js';
import type { Oidc } from '../../oidc/relying-party.js';
import { errorResponses, revokedCountSchema } from '../schemas.js';
import type { ServiceAuth } from '../auth.js';
import { failureFields } from '../failure-log.js';

const backchannelErrorSchema = {
  type: 'object',
  description: 'The Logout Token or the request is invalid (OpenID Connect Back-Channel Logout 1.0, section 2.8).',
  required: ['error', 'error_description', 'message'],
  properties: {
    error: { type: 'string', enum: ['invalid_request'] },
    error_description: { type: 'string', description: 'Which check failed.' },
    message: { type: 'string', description: 'The same text, as in every other sessionkit error.' },
  },
  additionalProperties: false,
} as const;

/**
 * `POST /v1/backchannel-logout` (OpenID Connect Back-Channel Logout 1.0), present only when OIDC
 * is configured. The provider posts a form with one `logout_token`; a valid one revokes the
 * sessions it names (200), anything malformed is 400 `invalid_request`; always `no-store`. Its own
 * encapsulated scope reads every body as text, so a wrong media type is a 400 here, not a 415.
 *
 * @example backchannelRoutes(app, oidc, auth)
 */
export function backchannelRoutes(app: FastifyInstance, oidc: Oidc, auth: ServiceAuth): void {
  void app.register(async function backchannelScope(scope) {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_FORM_BYTES }, (_request, body, done) => done(null, body));

    scope.post('/v1/backchannel-logout', {
      schema: {
        operationId: 'backchannelLogout', tags: ['sso'], security: [],
        summary: 'OpenID Connect Back-Channel Logout: the provider ends sessions (form field logout_token)',
        openapiRequestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                type: 'object', required: ['logout_token'],
                properties: { logout_token: { type: 'string', description: 'The Logout Token: a JWT signed by the provider.' } },
              },
            },
          },
        },
        response: { 200: { ...revokedCountSchema, description: 'The token was valid; `revoked` sessions ended (0 when none matched)' }, 400: backchannelErrorSchema, ...errorResponses },
      },
    }, async (request, reply) => {
      let outcome: unknown;
      try {
        const token = logoutTokenFromBody(request.headers['content-type'], request.body ?? '');
        outcome = await oidc.backchannelLogout(token, auth.context(request, 'oidc:backchannel'));
      } catch (err) {
        outcome = err;
      }
      const { status, headers, body } = backchannelResponse(outcome);
      if (status >= 500) request.log.error(failureFields(outcome, status), 'request failed');
      return reply.code(status).headers(headers).send(body);
    });
  });
}
