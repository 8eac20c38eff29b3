// The agenda picker (decisions/meeting.html): the filter box narrows the list of projects as you
// type; the count says how many are ticked. Without script the whole list stays, unfiltered.
(function () {
  'use strict';
  document.querySelectorAll('[data-agenda-picker]').forEach(function (form) {
    var box = form.querySelector('[data-agenda-filter]');
    var choices = Array.prototype.slice.call(form.querySelectorAll('[data-agenda-choice]'));
    var none = form.querySelector('[data-agenda-none]');
    var count = form.querySelector('[data-agenda-count]');
    function filter() {
      var words = (box.value || '').toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      choices.forEach(function (row) {
        var text = row.getAttribute('data-search') || '';
        var checked = row.querySelector('input').checked;
        var match = checked || words.every(function (w) { return text.indexOf(w) !== -1; });
        row.hidden = !match;
        if (match) { shown += 1; }
      });
      if (none) { none.hidden = shown > 0; }
    }
    function tally() {
      var n = form.querySelectorAll('[data-agenda-choice] input:checked').length;
      if (count) { count.textContent = n ? count.getAttribute('data-template').replace('{n}', n) : ''; }
    }
    if (box) { box.addEventListener('input', filter); }
    form.addEventListener('change', tally);
    form.addEventListener('submit', function (ev) {  // the box's Enter must not send an empty choice
      if (!form.querySelector('[data-agenda-choice] input:checked')) { ev.preventDefault(); box.focus(); }
    });
    filter();
    tally();
  });
}());
