"""The labs index page: every lab in reading order, generated from the registry."""
from __future__ import annotations

from . import lab_sources, registry

INDEX = {
    "zh": "# 实验\n\n每个实验都是一份已执行的笔记本：代码只写一次，在笔记本电脑的 CPU 上几秒到几十秒跑完，完全离线。"
          "每页顶部注明来源文章、原代码的问题和运行成本，末尾的“检查”单元格断言实验结果。\n\n",
    "en": "# Labs\n\nEach lab is an executed notebook: the code runs on a laptop CPU in seconds, fully offline. "
          "The top of each page names its source article, what the original code got wrong and what the lab costs "
          "to run; a final check cell asserts the result.\n\n",
}


def index_page(lang: str) -> str:
    reg = registry.load()
    items = [f"- [{lab_sources.title(slug, lang)}]({slug}.ipynb)" for slug in reg.labs]
    return INDEX[lang] + "\n".join(items) + "\n"
