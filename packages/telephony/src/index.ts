export {
  CALL_STATUSES,
  isTerminalCallStatus,
  type CallFacts,
  type CallMarker,
  type CallStatus,
  type MarkerLookup,
  type PlaceCallRequest,
  type PlacedCall,
  type RecordingStream,
  type Telephony,
} from "./port.ts";
export { PermanentTelephonyError, RetryableTelephonyError, type TelephonyError, type TelephonyErrorCode } from "./errors.ts";
export { createTwilioTelephony, DEFAULT_TWIML, type TwilioTelephonyOptions } from "./twilio/twilio-telephony.ts";
export { callStatusFromTwilio } from "./twilio/call-status.ts";
export { markerFromUrl, withMarker } from "./twilio/call-marker.ts";
export { createSimulatedCarrier, SIMULATED_ACCOUNT_SID, SIMULATED_FROM_NUMBER, type SimulatedCarrier, type SimulatedCarrierOptions } from "./simulated/simulated-carrier.ts";
export { startTwilioServer, twilioEnvFor, type ApiAnswers, type TwilioServer, type TwilioServerOptions } from "./simulated/twilio-server.ts";
export { twilioSignature, type CallbackDelivery, type CallbackFaults, type CallbackKind } from "./simulated/callback-line.ts";
export { NUMBER_TABLE, type CallOutcome } from "./simulated/number-table.ts";
export type { SimulatedCall } from "./simulated/twilio-resources.ts";
export {
  CALLBACK_CONVERSATION,
  defaultRecordingCacheDir,
  phoneConversationRecording,
  type ConversationTurn,
  type PhoneConversationOptions,
} from "./simulated/phone-conversation.ts";
export { openTelephony, telephonyConfig, telephonyConfigFromEnv, telephonyFields, type TelephonyConfig } from "./config.ts";
