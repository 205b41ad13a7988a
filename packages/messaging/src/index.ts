export {
  commitWithEvents,
  createOutboxRelay,
  emitInTransaction,
  type Emit,
  type OutboxRelay,
  type OutboxRelayOptions,
  type Publisher as OutboxPublisher,
  type TransactionClient,
} from "./outbox.ts";
export { createPostgresDeadLetterSink, type PostgresDeadLetterSinkOptions } from "./dead-letters/sink.ts";
export { DeadLetterNotFoundError, DeadLetterNotReplayableError, replayDeadLetter } from "./dead-letters/replay.ts";
export {
  ack,
  classifyError,
  dead,
  parseRetryAfter,
  PermanentError,
  retry,
  RetryableError,
  type AckOutcome,
  type DeadOutcome,
  type Outcome,
  type RetryOutcome,
} from "./outcome.ts";
export {
  declareTopology,
  TopologyDriftError,
  type ConsumerDeclaration,
  type DeclaredTopology,
  type Drift,
  type TopologyOptions,
} from "./topology.ts";
export {
  isLastDelivery,
  startConsumer,
  type ConsumerHandler,
  type ConsumerStats,
  type Delivery,
  type EventKeyFor,
  type RunningConsumer,
  type StartConsumerOptions,
} from "./consumer.ts";
export { createPublisher, type PublishOptions, type PublishResult, type PublisherOptions } from "./publisher.ts";
export {
  defineConsumer,
  openRuntime,
  type AnyConsumerRegistration,
  type ApiServer,
  type ConsumerRegistration,
  type Runtime,
  type RuntimeConfig,
  type RuntimeContext,
  type RuntimeOptions,
  type RunOptions,
  type ServiceHandle,
  type ServiceStartOptions,
} from "./runtime.ts";
export { systemClock, type Clock } from "./clock.ts";
export type { DeadLetterEnvelope, DeadLetterFailure, DeadLetterHook, DeadLetterReason, DeadLetterSink, Envelope } from "./envelope.ts";
