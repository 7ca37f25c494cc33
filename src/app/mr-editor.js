// mr-editor.js: the page side of Mailroom's mail editor (mr-editor.c). Injected by the editor, not
// by the page, so that the page's Content Security Policy lets nothing else run or load.
//
// Messages to the editor, as JSON: {html} after every change (merge fields as {{name}}), {state}
// when the formatting under the caret changes, {paste: html, text} instead of pasting (the editor
// cleans it and inserts what is left).
(function () {
  'use strict';
  const body = document.body;
  const post = (message) => window.webkit.messageHandlers.mailroom.postMessage(JSON.stringify(message));
  // {{name}}, not {{{raw}}}, nor a section or a partial ({{#...}}, {{> ...}}).
  const FIELD = /(?<!\{)\{\{\s*([A-Za-z0-9_.\-\u00c0-\uffff]+)\s*\}\}(?!\})/g;
  const HAS_FIELD = /(?<!\{)\{\{\s*[A-Za-z0-9_.\-\u00c0-\uffff]+\s*\}\}(?!\})/;
  let saved = null;
  // What a chip shows for a field that is not the person's own word (the sender's): mr-editor.c.
  let labels = {};
  // The page's own font (mr-editor.c), which the browser copies onto what it moves or inserts.
  const PAGE_FONT_SIZE = '11pt';
  const PAGE_FONT_FAMILY = 'sans-serif';

  body.contentEditable = 'true';
  body.setAttribute('role', 'textbox');
  body.setAttribute('aria-multiline', 'true');
  document.execCommand('styleWithCSS', false, false);
  document.execCommand('defaultParagraphSeparator', false, 'p');

  function chip(name) {
    const span = document.createElement('span');
    span.className = 'mr-field';
    span.contentEditable = 'false';
    span.dataset.field = name;
    span.textContent = labels[name] || name;
    return span;
  }

  // Plain merge fields in the text become chips; sections ({{#...}}) and the rest stay text.
  function fieldsToChips(root) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const texts = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode())
      if (node.parentNode && !node.parentNode.closest('.mr-field') && HAS_FIELD.test(node.nodeValue))
        texts.push(node);
    for (const node of texts) {
      const fragment = document.createDocumentFragment();
      let last = 0;
      node.nodeValue.replace(FIELD, (match, name, offset) => {
        fragment.appendChild(document.createTextNode(node.nodeValue.slice(last, offset)));
        fragment.appendChild(chip(name));
        last = offset + match.length;
        return match;
      });
      fragment.appendChild(document.createTextNode(node.nodeValue.slice(last)));
      node.replaceWith(fragment);
    }
  }

  function serialize() {
    const copy = body.cloneNode(true);
    copy.querySelectorAll('span.mr-field').forEach((span) =>
      span.replaceWith(document.createTextNode('{{' + span.dataset.field + '}}')));
    copy.removeAttribute('contenteditable');
    // A picture from the web not yet embedded is not part of the message.
    copy.querySelectorAll('img[src^="cid:mailroom-remote-"]').forEach((img) => img.remove());
    // What the browser's editing leaves behind: a paragraph around a list, a line break that only
    // held an empty line open, spans that only repeat the page's own font.
    copy.querySelectorAll('p').forEach((p) => {
      if (p.querySelector('ul, ol, h1, h2, h3, h4, h5, h6, div, table, p, blockquote, hr'))
        p.replaceWith(...p.childNodes);
    });
    copy.querySelectorAll('li > br:last-child, p > br:last-child, h1 > br:last-child, h2 > br:last-child, h3 > br:last-child')
      .forEach((br) => { if (br.parentNode.textContent.trim() !== '') br.remove(); });
    copy.querySelectorAll('[style]').forEach((element) => {
      if (element.style.fontSize === PAGE_FONT_SIZE)
        element.style.removeProperty('font-size');
      if (element.style.fontFamily === PAGE_FONT_FAMILY)
        element.style.removeProperty('font-family');
      if (element.style.length === 0) {
        element.removeAttribute('style');
        if (element.localName === 'span' && element.attributes.length === 0)
          element.replaceWith(...element.childNodes);
      }
    });
    // A space typed at the end of a word is kept as &nbsp; while it is last; between two words it
    // is a space again.
    return copy.innerHTML.replace(/\u200b/g, '').replace(/([^\s;>])&nbsp;(?=[^\s&<])/g, '$1 ')
      .replace(/(<\/(?:b|i|u|s|a|em|strong|span|sub|sup)>)&nbsp;(?=[^\s&<])/g, '$1 ');
  }

  function state() {
    const block = (document.queryCommandValue('formatBlock') || 'p').toLowerCase();
    post({ state: {
      bold: document.queryCommandState('bold'),
      italic: document.queryCommandState('italic'),
      underline: document.queryCommandState('underline'),
      ul: document.queryCommandState('insertUnorderedList'),
      ol: document.queryCommandState('insertOrderedList'),
      center: document.queryCommandState('justifyCenter'),
      right: document.queryCommandState('justifyRight'),
      block: block,
      link: !!(window.getSelection().anchorNode && window.getSelection().anchorNode.parentElement &&
               window.getSelection().anchorNode.parentElement.closest('a')),
      undo: document.queryCommandEnabled('undo'),
      redo: document.queryCommandEnabled('redo'),
    } });
  }

  function changed() {
    post({ html: serialize() });
    state();
  }

  body.addEventListener('input', changed);
  document.addEventListener('selectionchange', state);
  body.addEventListener('paste', (event) => {
    event.preventDefault();
    post({ paste: event.clipboardData.getData('text/html') || null,
           text: event.clipboardData.getData('text/plain') || '' });
  });
  body.addEventListener('drop', (event) => {
    // Files and pages dropped in are not taken as they come: the editor cleans them like a paste.
    event.preventDefault();
    post({ paste: event.dataTransfer.getData('text/html') || null,
           text: event.dataTransfer.getData('text/plain') || '' });
  });

  window.mailroom = {
    setLabels(given) {
      labels = given;
      body.querySelectorAll('span.mr-field').forEach((span) => { span.textContent = labels[span.dataset.field] || span.dataset.field; });
    },
    setHTML(html) {
      body.innerHTML = html;
      fieldsToChips(body);
      changed();
    },
    html: serialize,
    // A round trip: the html and the state as they are now, then the number back (mr_editor_sync()).
    sync(n) {
      changed();
      post({ sync: n });
    },
    command(name, argument) {
      body.focus();
      document.execCommand(name, false, argument === undefined ? null : argument);
      changed();
    },
    insertHTML(html) {
      body.focus();
      if (saved) {
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(saved);
        saved = null;
      }
      document.execCommand('insertHTML', false, html);
      fieldsToChips(body);
      changed();
    },
    // A picture from the web in the place its placeholder holds, or the placeholder out.
    setPicture(marker, uri) {
      body.querySelectorAll('img').forEach((img) => {
        if (img.getAttribute('src') !== marker)
          return;
        if (uri)
          img.setAttribute('src', uri);
        else
          img.remove();
      });
      changed();
    },
    insertField(name) {
      body.focus();
      const selection = window.getSelection();
      if (!selection.rangeCount || !body.contains(selection.anchorNode)) {
        const range = document.createRange();
        range.selectNodeContents(body);
        range.collapse(false);
        selection.removeAllRanges();
        selection.addRange(range);
      }
      const range = selection.getRangeAt(0);
      const span = chip(name);
      range.deleteContents();
      range.insertNode(span);
      const after = document.createTextNode('\u200b');
      span.after(after);
      range.setStartAfter(after);
      range.collapse(true);
      selection.removeAllRanges();
      selection.addRange(range);
      changed();
    },
    // Before a dialog takes the focus: the selection it will act on.
    saveSelection() {
      const selection = window.getSelection();
      saved = selection.rangeCount ? selection.getRangeAt(0).cloneRange() : null;
      return saved ? saved.toString() : '';
    },
    link(href, text) {
      body.focus();
      const selection = window.getSelection();
      if (saved) {
        selection.removeAllRanges();
        selection.addRange(saved);
        saved = null;
      }
      if (selection.isCollapsed || !selection.toString()) {
        const a = document.createElement('a');
        a.href = href;
        a.textContent = text || href;
        const range = selection.rangeCount ? selection.getRangeAt(0) : document.createRange();
        if (!selection.rangeCount) {
          range.selectNodeContents(body);
          range.collapse(false);
        }
        range.insertNode(a);
        range.setStartAfter(a);
        range.collapse(true);
        selection.removeAllRanges();
        selection.addRange(range);
      } else {
        document.execCommand('createLink', false, href);
      }
      changed();
    },
    state: state,
  };
  changed();
})();
