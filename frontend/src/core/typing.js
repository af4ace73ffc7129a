// Typing indicators, both ways: the agent's dots (which go by themselves if the "stopped
// typing" frame is lost) and the visitor's own `typing` frames, throttled, with a
// "stopped" frame once the keys go quiet or the message is sent.

// If the "stopped typing" frame is lost, the dots must not stay forever.
const AGENT_TYPING_TIMEOUT_MS = 20000;
const TYPING_THROTTLE_MS = 3000;
const TYPING_IDLE_MS = 4000;

/**
 * @param send           (frame) => boolean, false when the socket is not ready
 * @param onAgentTyping  (boolean) the agent's dots change
 */
export function createTyping({ send, onAgentTyping, timers, now }) {
  let agentTimer = null;
  let idleTimer = null;
  let sentAt = 0;

  function agent(typing) {
    timers.clearTimeout(agentTimer);
    if (typing) agentTimer = timers.setTimeout(() => agent(false), AGENT_TYPING_TIMEOUT_MS);
    onAgentTyping(typing);
  }

  /** The visitor pressed a key in the composer. */
  function visitor() {
    if (now() - sentAt > TYPING_THROTTLE_MS && send({ type: 'typing', state: true })) sentAt = now();
    timers.clearTimeout(idleTimer);
    idleTimer = timers.setTimeout(stop, TYPING_IDLE_MS);
  }

  /** The visitor stopped (idle, or sent the message). */
  function stop() {
    timers.clearTimeout(idleTimer);
    if (sentAt) send({ type: 'typing', state: false });
    sentAt = 0;
  }

  return { agent, visitor, stop };
}
