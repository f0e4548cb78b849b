// RabbitMQ: the CX1 feed in, integration events out, and the topology both use.
export {
  DEFAULT_PREFIX,
  OWNER_ARGUMENT,
  SLOTS,
  SLOT_HEADER,
  bind,
  declareTopology,
  ownedBindingArguments,
  slotBindings,
  standingObjects,
  unbind,
  type Arguments,
  type BindingDeclaration,
  type ExchangeDeclaration,
  type QueueDeclaration,
  deleteTopology,
  isSlot,
  moveMessages,
  otherSlot,
  switchLiveSlot,
  topologyNames,
  type QueueType,
  type Slot,
  type SwitchOptions,
  type SwitchReport,
  type TopologyNames,
  type TopologyOptions,
} from './topology.js';
export { FEED_HEADERS, decodeFeedMessage, feedLineMessage, type DecodedFeedMessage, type FeedLineMessage, type IncomingMessage, type OutgoingMessage } from './feed-message.js';
export { FeedConsumer, type FeedBatchReport, type FeedConsumerOptions, type FeedConsumerStatus } from './feed-consumer.js';
export {
  INTEGRATION_EVENT_TYPES,
  INTEGRATION_ROUTING_KEYS,
  IntegrationPublisher,
  integrationMessage,
  publisherCaughtUp,
  type IntegrationEventBody,
  type IntegrationMessage,
  type IntegrationPublisherOptions,
  type IntegrationPublisherStatus,
} from './publisher.js';
export { UnpublishableFileError, publishFile, type PublishFileOptions, type PublishFileSummary } from './publish-file.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { BrokerUnreachableError, openConnection, redactUrl, type AmqpTls } from './connection.js';
export { managementEndpoint, queueReport, type ManagementEndpoint, type QueueFigures, type QueueReport } from './management.js';
