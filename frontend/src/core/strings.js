// Every piece of UI text, per language. A missing translation falls back to English.
const en = {
  defaultName: 'Support',
  chatWith: 'Chat with {name}',
  close: 'Close chat',
  placeholder: 'Write a message…',
  inputLabel: 'Message',
  send: 'Send message',
  typing: 'Agent is typing',
  reconnecting: 'Reconnecting…',
  online: 'Online',
  poweredBy: 'Powered by CustomerAgent',
  unavailable: 'Chat is unavailable right now. Please try again later.',
  tooLong: 'Messages are limited to {max} characters.',
  dismiss: 'Dismiss',
  newMessage: 'New message from {name}: {text}',
  csatQuestion: 'How did we do?',
  csatScore: '{n} out of 5',
  csatComment: 'Add a comment (optional)',
  csatSubmit: 'Send rating',
  csatThanks: 'Thanks for your feedback!',
};

export const TRANSLATIONS = {
  en,
  fr: {
    defaultName: 'Assistance',
    chatWith: 'Discuter avec {name}',
    close: 'Fermer la discussion',
    placeholder: 'Écrivez un message…',
    inputLabel: 'Message',
    send: 'Envoyer le message',
    typing: 'L’agent écrit',
    reconnecting: 'Reconnexion…',
    online: 'En ligne',
    poweredBy: 'Propulsé par CustomerAgent',
    unavailable: 'La discussion est indisponible pour le moment. Veuillez réessayer plus tard.',
    tooLong: 'Les messages sont limités à {max} caractères.',
    dismiss: 'Fermer',
    newMessage: 'Nouveau message de {name} : {text}',
    csatQuestion: 'Comment nous sommes-nous débrouillés ?',
    csatScore: '{n} sur 5',
    csatComment: 'Ajouter un commentaire (facultatif)',
    csatSubmit: 'Envoyer la note',
    csatThanks: 'Merci pour votre avis !',
  },
  ar: {
    defaultName: 'الدعم',
    chatWith: 'الدردشة مع {name}',
    close: 'إغلاق الدردشة',
    placeholder: 'اكتب رسالة…',
    inputLabel: 'رسالة',
    send: 'إرسال الرسالة',
    typing: 'الوكيل يكتب',
    reconnecting: 'جارٍ إعادة الاتصال…',
    online: 'متصل',
    poweredBy: 'مدعوم من CustomerAgent',
    unavailable: 'الدردشة غير متاحة حاليًا. يرجى المحاولة لاحقًا.',
    tooLong: 'الحد الأقصى للرسائل {max} حرفًا.',
    dismiss: 'إغلاق',
    newMessage: 'رسالة جديدة من {name}: {text}',
    csatQuestion: 'كيف كان أداؤنا؟',
    csatScore: '{n} من 5',
    csatComment: 'أضف تعليقًا (اختياري)',
    csatSubmit: 'إرسال التقييم',
    csatThanks: 'شكرًا على ملاحظاتك!',
  },
};

const RTL = ['ar', 'he', 'fa', 'ur'];

/**
 * The first of `candidates` (BCP 47 tags, e.g. window.CustomerAgent.locale, then
 * navigator.language) we have strings for, matched on the primary language.
 * Returns {lang, dir, t} where t(key, values) fills `{placeholders}`.
 */
export function pickStrings(...candidates) {
  let lang = 'en';
  for (const tag of candidates) {
    const primary = typeof tag === 'string' ? tag.trim().toLowerCase().split(/[-_]/)[0] : '';
    if (TRANSLATIONS[primary]) {
      lang = primary;
      break;
    }
  }
  const table = { ...en, ...TRANSLATIONS[lang] };
  const t = (key, values = {}) => table[key].replace(/\{(\w+)\}/g, (_, name) => (values[name] != null ? values[name] : ''));
  return { lang, dir: RTL.includes(lang) ? 'rtl' : 'ltr', t };
}
