/** A command the state machine refused. Like an error from Consul's FSM, it reaches HTTP clients as a 500. */
export class StateError extends Error {
  override name = 'StateError';
}
