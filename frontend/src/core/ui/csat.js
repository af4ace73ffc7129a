// The rating prompt shown after the last message when a conversation is resolved, and the
// thank-you line that replaces it once the server has the rating.

import { MAX_CSAT_COMMENT } from '../csat.js';
import { h } from './dom.js';

/**
 * @param t       strings.t
 * @param onRate  (score, comment) => boolean, true when the rating was accepted
 */
export function csatPrompt(t, onRate) {
  let score = 0;
  const submit = h('button', { type: 'submit', class: 'q', 'data-ca': 'csat-submit', disabled: true }, [t('csatSubmit')]);
  const comment = h('input', {
    type: 'text',
    maxlength: MAX_CSAT_COMMENT,
    placeholder: t('csatComment'),
    'aria-label': t('csatComment'),
    'data-ca': 'csat-comment',
  });
  const scores = [1, 2, 3, 4, 5].map((n) => {
    const button = h('button', { type: 'button', class: 'cs', 'aria-label': t('csatScore', { n }), 'aria-pressed': 'false', 'data-ca': 'csat-score', 'data-score': n }, ['★']);
    button.addEventListener('click', () => {
      score = n;
      scores.forEach((b, i) => {
        b.setAttribute('aria-pressed', String(i + 1 === n));
        b.classList.toggle('on', i < n);
      });
      submit.disabled = false;
    });
    return button;
  });
  const question = h('div', { class: 'csq' }, [t('csatQuestion')]);
  const form = h('form', { class: 'csat', role: 'group', 'aria-label': t('csatQuestion'), 'data-ca': 'csat' }, [
    question,
    h('div', { class: 'css' }, scores),
    h('div', { class: 'csc' }, [comment, submit]),
  ]);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (score && onRate(score, comment.value)) submit.disabled = true;
  });
  return form;
}

export const csatThanks = (t) => h('div', { class: 'm', 'data-role': 'system', 'data-ca': 'csat-thanks' }, [t('csatThanks')]);
