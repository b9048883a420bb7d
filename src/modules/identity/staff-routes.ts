// /api/v1/establishments/:eid — staff administration: members, invitations, approvals, API keys.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../../platform/http/context.js';
import { createApiKey, listApiKeys, revokeApiKey } from './api-keys.js';
import * as S from './schemas.js';
import { changeRole, decideApproval, endMemberSessions, invite, listApprovals, listMembers, removeMember, requestMfaReset, type StaffContext } from './staff.js';

const tags = ['staff'];
const config = { auth: 'session' as const };

export function staffPlugin(ctx: StaffContext): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();

    app.get('/establishments/:eid/members', { config, schema: { tags, summary: 'Staff of the establishment', params: S.EstablishmentParams, response: { 200: S.MembersResponse } } }, async (request) => ({
      items: await listMembers(ctx, actorOf(request), request.params.eid),
    }));

    app.post('/establishments/:eid/invitations', { config, schema: { tags, summary: 'Invite a person (admin, step-up; admin and security_officer need a second approver)', params: S.EstablishmentParams, body: S.InviteBody, response: { 201: S.InviteResponse } } }, async (request, reply) => {
      const { invitationId, status, approvalId } = await invite(ctx, actorOf(request), request.params.eid, request.body);
      return reply.code(201).send({ invitationId, status, ...(approvalId ? { approvalId } : {}) });
    });

    app.put('/establishments/:eid/members/:uid/role', { config, schema: { tags, summary: "Change a member's role (step-up; admin and security_officer need a second approver)", params: S.MemberParams, body: S.RoleBody, response: { 200: S.PendingResponse, 202: S.PendingResponse } } }, async (request, reply) => {
      const result = await changeRole(ctx, actorOf(request), request.params.eid, request.params.uid, request.body.role);
      return reply.code(result.status === 'pending_approval' ? 202 : 200).send(result.approvalId ? result : { status: result.status });
    });

    app.delete('/establishments/:eid/members/:uid', { config, schema: { tags, summary: 'Remove a member (step-up); their sessions end', params: S.MemberParams } }, async (request, reply) => {
      await removeMember(ctx, actorOf(request), request.params.eid, request.params.uid);
      return reply.code(204).send();
    });

    app.post('/establishments/:eid/members/:uid/sessions/revoke', { config, schema: { tags, summary: "End all of a member's sessions", params: S.MemberParams, response: { 200: S.RevokedResponse } } }, async (request) =>
      endMemberSessions(ctx, actorOf(request), request.params.eid, request.params.uid),
    );

    app.post('/establishments/:eid/members/:uid/mfa-reset', { config, schema: { tags, summary: "Request a reset of a member's second factors (a second person approves)", params: S.MemberParams, response: { 202: S.PendingResponse } } }, async (request, reply) =>
      reply.code(202).send(await requestMfaReset(ctx, actorOf(request), request.params.eid, request.params.uid)),
    );

    app.get('/establishments/:eid/approvals', { config, schema: { tags, summary: 'Requests waiting for a second approver', params: S.EstablishmentParams, response: { 200: S.ApprovalsResponse } } }, async (request) => ({
      items: await listApprovals(ctx, actorOf(request), request.params.eid),
    }));

    app.post('/establishments/:eid/approvals/:id/approve', { config, schema: { tags, summary: 'Approve a request (another admin or security officer, step-up)', params: S.EstablishmentItemParams, response: { 200: S.StatusResponse } } }, async (request) =>
      decideApproval(ctx, actorOf(request), request.params.eid, request.params.id, 'approved'),
    );

    app.post('/establishments/:eid/approvals/:id/reject', { config, schema: { tags, summary: 'Reject a request', params: S.EstablishmentItemParams, response: { 200: S.StatusResponse } } }, async (request) =>
      decideApproval(ctx, actorOf(request), request.params.eid, request.params.id, 'rejected'),
    );

    app.get('/establishments/:eid/api-keys', { config, schema: { tags, summary: 'API keys of the establishment', params: S.EstablishmentParams, response: { 200: S.ApiKeysResponse } } }, async (request) => ({
      items: await listApiKeys(ctx, actorOf(request), request.params.eid),
    }));

    app.post('/establishments/:eid/api-keys', { config, schema: { tags, summary: 'Create an API key (admin, step-up); the key is shown once', params: S.EstablishmentParams, body: S.ApiKeyBody, response: { 201: S.ApiKeyCreated } } }, async (request, reply) =>
      reply.code(201).send(await createApiKey(ctx, actorOf(request), request.params.eid, request.body)),
    );

    app.delete('/establishments/:eid/api-keys/:id', { config, schema: { tags, summary: 'Revoke an API key', params: S.EstablishmentItemParams } }, async (request, reply) => {
      await revokeApiKey(ctx, actorOf(request), request.params.eid, request.params.id);
      return reply.code(204).send();
    });
  };
}
