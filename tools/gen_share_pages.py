"""mkdocs-gen-files script: a share page at explain/<id>/ for every traced snippet of the site.

Wired in mkdocs.yml under the gen-files plugin, which must come before looplens there so that the
plugin traces the generated pages too. The pages' text is decided by looplens.site.share.
"""

from __future__ import annotations

import mkdocs_gen_files
from mkdocs_gen_files.editor import FilesEditor

from looplens.site.share import tracing_is_on, write_share_pages

editor = FilesEditor.current()
if tracing_is_on(editor.config):
    write_share_pages(
        ((file.src_uri, file.content_string) for file in editor.files.documentation_pages()),
        mkdocs_gen_files.open,
        mkdocs_gen_files.set_edit_path,
    )
