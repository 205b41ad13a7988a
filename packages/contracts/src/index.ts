export * from "./gen/callflow/events/v1/events_pb.ts";
export { events, type EventKey, type StreamKey } from "./events.ts";
export { topology, streams, consumers, DEFAULT_NAMESPACE, type Topology, type ConsumerKey } from "./topology.ts";
export { encodeEvent, decodeEvent, eventAsJson, UndecodableEventError, type EventOf, type EventInit } from "./codec.ts";
export { isUuid } from "./ids.ts";
