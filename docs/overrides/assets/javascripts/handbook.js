/* The language selector links the same page in the other language (built into the href); here we
   add the current #anchor, and stop Material's own handler, which looks pages up in sitemap.xml and
   falls back to the home page when that cannot be fetched (always, from file://). */
document.addEventListener("click", function (event) {
  var link = event.target instanceof Element && event.target.closest("a[data-handbook-switch]");
  if (!link) return;
  event.stopPropagation();
  link.href = link.href.split("#")[0] + window.location.hash;
}, true);
