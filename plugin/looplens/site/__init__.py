"""What spans the pages of a site: ids unique site-wide (ids.py), links from a block to the
glossary and to share pages (links.py), facts of a page (pages.py), the generated share pages
(share.py), the assets every page loads (assets.py), and the reload of served pages once every
runtime has run (serve_refresh.py)."""
