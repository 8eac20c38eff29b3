#!/usr/bin/env bash
# Re-extract the UI strings and merge them into the catalogs (then translate the new entries
# in crm/translations/*/LC_MESSAGES/messages.po). The app compiles .po to .mo when it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
$PY -m babel.messages.frontend extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o crm/translations/messages.pot .
if [ ! -f crm/translations/zh/LC_MESSAGES/messages.po ]; then
  $PY -m babel.messages.frontend init -i crm/translations/messages.pot -d crm/translations -l zh
else
  $PY -m babel.messages.frontend update -i crm/translations/messages.pot -d crm/translations --no-fuzzy-matching
fi
