import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { StoreBusyError, StoreUnavailableError } from '../eventstore/index.js';

/** RFC 9457 problem details. `type` is stable per kind of error so clients can branch on it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

export function notFound(what: string, instance?: string): Problem {
  return { type: '/problems/not-found', title: 'Not found', status: 404, detail: `${what} does not exist`, ...(instance && { instance }) };
}

/** A stable problem type for each client error fastify raises before a route runs. */
const FRAMEWORK_PROBLEMS: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed-body',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed-body',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body-too-large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad-request',
  FST_ERR_BAD_URL: 'malformed-url',
  KEPLER_RATE_LIMITED: 'rate-limited',
};

/** Turns fastify's schema-validation errors into a problem that names each offending parameter or field. */
export function problemErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    const errors = error.validation.map((issue) => {
      const path = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
      const missing = issue.keyword === 'required' ? String((issue.params as { missingProperty?: string }).missingProperty ?? '') : '';
      const extra = issue.keyword === 'additionalProperties' ? String((issue.params as { additionalProperty?: string }).additionalProperty ?? '') : '';
      const name = path || missing || extra || where;
      const message = missing ? 'is required' : extra ? 'is not allowed' : (issue.message ?? 'is invalid');
      return { [where === 'querystring' ? 'parameter' : 'field']: name, message };
    });
    const first = errors[0]!;
    const name = (first.parameter ?? first.field) as string;
    const title = where === 'querystring' ? 'Invalid query parameter' : where === 'params' ? 'Invalid path parameter' : 'Invalid request';
    return sendProblem(reply, {
      // 'validation-failed' is the domain's 422 (a well-formed trade the rules refuse); this is the schema's 400.
      type: where === 'querystring' ? '/problems/invalid-parameter' : '/problems/invalid-request',
      title,
      status: 400,
      detail: `${name} ${first.message}`,
      instance: request.url,
      errors,
    });
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return sendProblem(reply, { type: `/problems/${FRAMEWORK_PROBLEMS[error.code] ?? 'bad-request'}`, title: error.message, status: error.statusCode, instance: request.url });
  }
  if ((error as unknown) instanceof StoreBusyError) {
    // Another process held the store too long; nothing was written, so the client may simply retry.
    reply.header('retry-after', '1');
    return sendProblem(reply, { type: '/problems/busy', title: 'Store busy', status: 503, detail: error.message, instance: request.url });
  }
  if ((error as unknown) instanceof StoreUnavailableError) {
    // The detail names the store that did not answer, so whoever watches /status knows what it waits for.
    request.log.warn({ err: error }, 'a store did not answer');
    reply.header('retry-after', '5');
    return sendProblem(reply, { type: '/problems/store-unavailable', title: 'Store unavailable', status: 503, detail: error.message, instance: request.url });
  }
  request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, { type: '/problems/internal', title: 'Internal error', status: 500, instance: request.url });
}
