// Every piece of UI text, in one place so it can be translated.
export const STRINGS = {
  defaultName: 'Support',
  chatWith: (name) => `Chat with ${name}`,
  close: 'Close chat',
  placeholder: 'Write a message…',
  inputLabel: 'Message',
  send: 'Send message',
  typing: 'Agent is typing',
  reconnecting: 'Reconnecting…',
  online: 'Online',
  poweredBy: 'Powered by CustomerAgent',
  unavailable: 'Chat is unavailable right now. Please try again later.',
};
