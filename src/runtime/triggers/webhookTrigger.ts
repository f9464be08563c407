import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../../commands/executionCommandHandler.js';
import type { WorkflowCommandHandler } from '../../commands/workflowCommandHandler.js';
import { DomainError } from '../../domain/errors.js';
import type { ExecutionState } from '../../domain/execution/state.js';
import { tenantOf } from '../../domain/tenants.js';
import { jsonProblem, stringProblem } from '../../domain/jsonHygiene.js';
import { MAX_ID_LENGTH } from '../../domain/limits.js';
import type { StartExecution } from '../admission/admission.js';
import type { WebhookRegistry } from './webhookRegistry.js';
import { isValidSignature, SIGNATURE_HEADER } from './webhookSignature.js';

/**
 * A call to a webhook trigger: the route, then the signature over the raw bytes (before anything
 * reads them), then the JSON body, which becomes the trigger data (an empty body: null).
 * Refusals are DomainErrors: NOT_FOUND, UNAUTHENTICATED, BAD_USER_INPUT (also for a malformed
 * idempotency key).
 */
export class WebhookTrigger {
  constructor(
    private readonly registry: WebhookRegistry,
    private readonly workflows: Pick<WorkflowCommandHandler, 'get'>,
    private readonly start: StartExecution,
  ) {}

  /** `context.tenantId`: the tenant the URL names (default: `default`); another tenant's path is not there. */
  async call(path: string, rawBody: Buffer, signature: string | undefined, context: CommandContext = {}, idempotencyKey?: string): Promise<ExecutionState> {
    const tenantId = tenantOf(context);
    // No webhook has such a path (validation refuses it), and the lookup must not send it to the database.
    if ([path, tenantId].some((each) => each.length > MAX_ID_LENGTH || stringProblem(each) !== null)) throw new DomainError('NOT_FOUND', 'no webhook at that path');
    const route = await this.registry.resolve(tenantId, path);
    if (!route) throw new DomainError('NOT_FOUND', `no webhook at /webhooks/${path}`);
    if (route.secret !== null && !isValidSignature(route.secret, rawBody, signature)) {
      throw new DomainError('UNAUTHENTICATED', `missing or invalid ${SIGNATURE_HEADER} (HMAC-SHA256 of the raw body, hex)`);
    }
    const triggerData = parseJson(rawBody);
    const workflow = await this.workflows.get(route.workflowId, route.workflowVersion);
    if (!workflow) throw new DomainError('NOT_FOUND', `workflow ${route.workflowId} not found`);
    return this.start({ executionId: randomUUID(), workflow, triggerNodeId: route.nodeId, triggerData, context, idempotencyKey });
  }
}

/** The body as trigger data: valid JSON that can be stored (see jsonProblem), else BAD_USER_INPUT. */
function parseJson(rawBody: Buffer): unknown {
  if (rawBody.length === 0) return null;
  let data: unknown;
  try {
    data = JSON.parse(rawBody.toString('utf8'));
  } catch (error) {
    throw new DomainError('BAD_USER_INPUT', `body is not valid JSON: ${(error as Error).message}`);
  }
  const problem = jsonProblem(data);
  if (problem !== null) throw new DomainError('BAD_USER_INPUT', `body: ${problem}`);
  return data;
}
