// Tabs of the same site showing the same agent stay in step over a BroadcastChannel named
// `ca:<agentId>`: the panel opening or closing, messages the visitor writes, and the
// frames a tab's websocket receives (messages, acks, streamed chunks). Each tab keeps its
// own websocket; the outbox in localStorage is shared already.
//
// Messages: {type:'open', open}  {type:'local', entry}  {type:'frame', frame}

const TYPES = ['open', 'local', 'frame'];

export function createTabSync({ agentId, onMessage, Channel = globalThis.BroadcastChannel }) {
  let channel = null;
  try {
    if (typeof Channel === 'function') channel = new Channel(`ca:${agentId}`);
  } catch (error) {
    channel = null; // e.g. an opaque origin
  }
  if (channel) {
    channel.onmessage = (event) => {
      const data = event && event.data;
      if (data && TYPES.includes(data.type)) onMessage(data);
    };
  }
  return {
    post(message) {
      try {
        if (channel) channel.postMessage(message);
      } catch (error) {
        // another tab missing an update is not worth breaking this one
      }
    },
    close: () => channel && channel.close(),
  };
}
