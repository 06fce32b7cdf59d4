"""Reporting: the paper's tables rebuilt from measurements (``paper_tables``), their notes
(``notes``), headline views and number formats (``views``), figures (``plots``), the HTML page
(``html``), every file of a tables run (``tables_outputs``), writers (``files``) and publishing a
run's files as one result set (``publish``); the runtimes' table and figures (``runtimes``)."""
