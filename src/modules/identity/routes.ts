// /api/v1/auth: thin handlers (validate, authenticate, call one service function, present).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../../platform/http/context.js';
import { DomainError } from '../../platform/http/errors.js';
import { changePassword, requestPasswordReset, resetPassword, signUp, verifyEmail } from './accounts.js';
import { sessionTokenOf } from './authenticator.js';
import type { RequestOrigin } from './context.js';
import { loginWithCode, loginWithPasskey, loginWithPassword, passkeyLoginOptions } from './login.js';
import { confirmTotpEnrolment, passkeyRegistrationOptions, regenerateRecoveryCodes, registerPasskey, startTotpEnrolment, stepUp, stepUpOptions } from './mfa.js';
import * as S from './schemas.js';
import { describeMe, DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE_S, listSessions, revokeOwnSession, SESSION_COOKIE, type OpenedSession, type UserActor } from './sessions.js';
import { acceptInvitation, type StaffContext } from './staff.js';
import { csrfTokenFor } from './tokens.js';
import type { WebAuthnLoginBody, WebAuthnRegisterBody } from './schemas.js';
import type { Static } from 'typebox';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from './webauthn.js';

const tags = ['auth'];
const pub = { auth: 'public' as const };
const session = { auth: 'session' as const };
/** Routes a staff member may use before presenting a second factor: enrolling one, or leaving. */
const enrolment = { auth: 'session' as const, allowIncompleteMfa: true };

function origin(request: FastifyRequest): RequestOrigin {
  const ua = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof ua === 'string' ? ua : null, deviceToken: request.cookies[DEVICE_COOKIE] };
}

function userActor(request: FastifyRequest): UserActor {
  const actor = actorOf(request);
  if (actor.kind !== 'user') throw new DomainError('forbidden', 'This endpoint is for people, not API keys.');
  return actor;
}

export function identityPlugin(ctx: StaffContext): FastifyPluginAsync {
  const secure = ctx.config.publicUrl.startsWith('https://');
  const cookieBase = { httpOnly: true, sameSite: 'strict' as const, secure, path: '/' };

  const setSession = (reply: FastifyReply, opened: OpenedSession) => {
    reply.setCookie(SESSION_COOKIE, opened.token, { ...cookieBase, maxAge: opened.maxAgeSeconds });
    reply.setCookie(DEVICE_COOKIE, opened.deviceToken, { ...cookieBase, maxAge: DEVICE_COOKIE_MAX_AGE_S });
  };
  const publicThrottle = (request: FastifyRequest) => ctx.throttle.assertOpen([['publicAction', request.ip]]).then(() => ctx.throttle.fail([['publicAction', request.ip]]));

  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();

    app.post('/signup', { config: pub, schema: { tags, summary: 'Create a patient account (e-mail verification sent)', body: S.SignupBody, response: { 201: S.StatusResponse } } }, async (request, reply) => {
      await publicThrottle(request);
      await signUp(ctx, request.body, request.ip);
      // The same answer whether or not the e-mail already had an account.
      return reply.code(201).send({ status: 'verification_sent' });
    });

    app.post('/email/verify', { config: pub, schema: { tags, summary: 'Confirm an e-mail address from its link', body: S.TokenBody, response: { 200: S.StatusResponse } } }, async (request) => {
      await verifyEmail(ctx, request.body.token);
      return { status: 'ok' };
    });

    app.post('/login', { config: pub, schema: { tags, summary: 'Log in with e-mail and password', body: S.LoginBody, response: { 200: S.LoginResponse } } }, async (request, reply) => {
      const result = await loginWithPassword(ctx, request.body, origin(request));
      if (result.status === 'mfa_required') return { status: result.status, challengeId: result.challengeId, methods: result.methods };
      setSession(reply, result.session);
      return { status: result.status };
    });

    app.post('/login/mfa', { config: pub, schema: { tags, summary: 'Complete a login with a TOTP or recovery code', body: S.LoginMfaBody, response: { 200: S.StatusResponse } } }, async (request, reply) => {
      setSession(reply, await loginWithCode(ctx, request.body, origin(request)));
      return { status: 'ok' };
    });

    app.post('/webauthn/login/options', { config: pub, schema: { tags, summary: 'Passkey assertion options (after a password, or alone)', body: S.ChallengeOptionsBody, response: { 200: S.ChallengeOptionsResponse } } }, async (request) => {
      if (!request.body.challengeId) await publicThrottle(request);
      return passkeyLoginOptions(ctx, request.body, origin(request));
    });

    app.post('/webauthn/login/verify', { config: pub, schema: { tags, summary: 'Log in with a passkey assertion', body: S.WebAuthnLoginBody, response: { 200: S.StatusResponse } } }, async (request, reply) => {
      const body = request.body as Static<typeof WebAuthnLoginBody>;
      setSession(reply, await loginWithPasskey(ctx, { challengeId: body.challengeId, response: body.response as unknown as AuthenticationResponseJSON }, origin(request)));
      return { status: 'ok' };
    });

    app.post('/webauthn/register/options', { config: enrolment, schema: { tags, summary: 'Passkey registration options', response: { 200: S.ChallengeOptionsResponse } } }, async (request) =>
      passkeyRegistrationOptions(ctx, userActor(request)),
    );

    app.post('/webauthn/register/verify', { config: enrolment, schema: { tags, summary: 'Register a passkey', body: S.WebAuthnRegisterBody, response: { 200: S.EnrolResponse } } }, async (request) => {
      const body = request.body as Static<typeof WebAuthnRegisterBody>;
      return registerPasskey(ctx, userActor(request), { challengeId: body.challengeId, response: body.response as unknown as RegistrationResponseJSON, name: body.name }, request.ip);
    });

    app.post('/mfa/totp/setup', { config: enrolment, schema: { tags, summary: 'Start TOTP enrolment', response: { 200: S.TotpSetupResponse } } }, async (request) => startTotpEnrolment(ctx, userActor(request)));

    app.post('/mfa/totp/confirm', { config: enrolment, schema: { tags, summary: 'Confirm TOTP enrolment with a first code', body: S.CodeBody, response: { 200: S.EnrolResponse } } }, async (request) =>
      confirmTotpEnrolment(ctx, userActor(request), request.body.code, request.ip),
    );

    app.post('/mfa/recovery-codes', { config: session, schema: { tags, summary: 'Replace the recovery codes (step-up)', response: { 200: S.RecoveryCodesResponse } } }, async (request) =>
      regenerateRecoveryCodes(ctx, userActor(request), request.ip),
    );

    app.post('/step-up/options', { config: enrolment, schema: { tags, summary: 'Passkey options for a step-up', response: { 200: S.ChallengeOptionsResponse } } }, async (request) => stepUpOptions(ctx, userActor(request)));

    app.post('/step-up', { config: enrolment, schema: { tags, summary: 'Present a fresh second factor (valid 5 minutes)', body: S.StepUpBody, response: { 200: S.StepUpResponse } } }, async (request) => {
      const body = request.body;
      return stepUp(ctx, userActor(request), { code: body.code, challengeId: body.challengeId, response: body.response as unknown as AuthenticationResponseJSON | undefined }, request.ip);
    });

    app.get('/me', { config: enrolment, schema: { tags, summary: 'The signed-in user and the CSRF token', response: { 200: S.MeResponse } } }, async (request) => {
      const me = await describeMe(ctx, userActor(request));
      return { ...me, csrfToken: csrfTokenFor(sessionTokenOf(request)!) };
    });

    app.get('/sessions', { config: session, schema: { tags, summary: 'My open sessions', response: { 200: S.SessionsResponse } } }, async (request) => {
      const actor = userActor(request);
      return { items: await listSessions(ctx, actor.userId, actor.sessionId) };
    });

    app.delete('/sessions/:id', { config: session, schema: { tags, summary: 'End one of my sessions', params: S.IdParams } }, async (request, reply) => {
      if (!(await revokeOwnSession(ctx, userActor(request), request.params.id, request.ip))) throw new DomainError('not_found');
      return reply.code(204).send();
    });

    app.post('/logout', { config: enrolment, schema: { tags, summary: 'End this session' } }, async (request, reply) => {
      const actor = userActor(request);
      await revokeOwnSession(ctx, actor, actor.sessionId, request.ip);
      reply.clearCookie(SESSION_COOKIE, cookieBase);
      return reply.code(204).send();
    });

    app.post('/password/forgot', { config: pub, schema: { tags, summary: 'Send a reset link if the account exists (same answer either way)', body: S.ForgotBody, response: { 202: S.StatusResponse } } }, async (request, reply) => {
      await publicThrottle(request);
      await requestPasswordReset(ctx, request.body.email);
      return reply.code(202).send({ status: 'ok' });
    });

    app.post('/password/reset', { config: pub, schema: { tags, summary: 'Choose a new password from a reset link (no session is opened)', body: S.ResetBody, response: { 200: S.StatusResponse } } }, async (request) => {
      await publicThrottle(request);
      await resetPassword(ctx, request.body, request.ip);
      return { status: 'ok' };
    });

    app.post('/password/change', { config: session, schema: { tags, summary: 'Change my password (other sessions end)', body: S.ChangePasswordBody, response: { 200: S.StatusResponse } } }, async (request) => {
      await changePassword(ctx, userActor(request), request.body, request.ip);
      return { status: 'ok' };
    });

    app.post('/invitations/accept', { config: pub, schema: { tags, summary: 'Accept a staff invitation', body: S.AcceptInvitationBody, response: { 200: S.AcceptInvitationResponse } } }, async (request) => {
      await publicThrottle(request);
      return acceptInvitation(ctx, request.body, request.ip);
    });

    app.get('/api-key', { config: { auth: 'session_or_api_key' }, schema: { tags, summary: 'The API key making this request (integrations)', response: { 200: S.ApiKeyWhoAmI } } }, async (request) => {
      const actor = actorOf(request);
      if (actor.kind !== 'api_key') throw new DomainError('forbidden', 'Call this with an API key.');
      return { id: actor.apiKeyId, establishmentId: actor.establishmentId, scopes: actor.scopes };
    });
  };
}
