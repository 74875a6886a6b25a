/**
 * `TransactionScope` adapters. A scope is an opaque token: its connection and hooks live in a module-private map, so
 * only the database that created it can resolve it, and a scope whose transaction has ended resolves to an error
 * instead of a connection that may already serve someone else.
 *
 * Exports: `ScopeState`, `createScope(state): SqlScope`, `resolveScope(scope, owner): ScopeState`,
 * `runAfterCommitHooks(hooks, logger)`, `SqlScope`.
 */
import { ConfigurationError } from "../../kernel/errors.js";
import type { AfterCommitHook, TransactionScope } from "../document-repository.js";
import type { SqlExecutor } from "./sql-driver.js";
import type { SqlLogger } from "./sql-logger.js";

export interface ScopeState {
  /** The database that created the scope. */
  readonly owner: object;
  readonly executor: SqlExecutor;
  readonly logger: SqlLogger;
  /** Queued until COMMIT; `undefined` for the autocommit scope, whose hooks run at once. */
  readonly hooks: AfterCommitHook[] | undefined;
  /** Set when the transaction (or savepoint) is over: the connection is no longer ours. */
  finished: boolean;
  /** Serializes nested transactions (savepoints) opened on this scope: they share one connection. */
  nestedTail: Promise<void>;
  savepoints: number;
}

/**
 * The scope handed to callers. `afterCommit` returns a promise (the port allows `void`): in a transaction it resolves at
 * once, the hook being queued; on the autocommit scope it resolves once the hook has run, so a caller that awaits it
 * gets read-your-writes for whatever the hook does. It never rejects: hook errors are logged.
 */
export interface SqlScope extends TransactionScope {
  afterCommit(hook: AfterCommitHook): Promise<void>;
}

const states = new WeakMap<TransactionScope, ScopeState>();

export function createScope(state: ScopeState): SqlScope {
  const scope: SqlScope = {
    inTransaction: state.hooks !== undefined,
    afterCommit(hook) {
      if (state.finished) throw ended();
      if (state.hooks === undefined) return runAfterCommitHooks([hook], state.logger);
      state.hooks.push(hook);
      return Promise.resolve();
    },
  };
  states.set(scope, state);
  return Object.freeze(scope);
}

export function resolveScope(scope: TransactionScope, owner: object): ScopeState {
  const state = states.get(scope);
  if (state === undefined || state.owner !== owner) {
    throw new ConfigurationError(
      "scope",
      "does not belong to this database (pass its autocommit or a transaction scope)",
    );
  }
  if (state.finished) throw ended();
  return state;
}

/** In order, each awaited; a failure is logged and the next hook still runs. */
export async function runAfterCommitHooks(hooks: ReadonlyArray<AfterCommitHook>, logger: SqlLogger): Promise<void> {
  for (const hook of hooks) {
    try {
      await hook();
    } catch (error) {
      logger.error("afterCommit hook failed (the transaction is committed)", { error });
    }
  }
}

function ended(): ConfigurationError {
  return new ConfigurationError("scope", "belongs to a transaction that has already ended");
}
