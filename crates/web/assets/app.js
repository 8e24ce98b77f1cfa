// Progressive enhancement only: every page works without this file.
(function () {
  // Bring the first error into view and focus, so screen-reader and keyboard users land on it.
  var err = document.querySelector('[aria-invalid="true"]') || document.querySelector('.error[role="alert"]');
  if (err) {
    if (!err.hasAttribute('tabindex') && err.tagName !== 'INPUT' && err.tagName !== 'SELECT') err.setAttribute('tabindex', '-1');
    err.focus();
  }
})();
