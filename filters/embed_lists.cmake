# Turns the default word lists (filters/data/*.txt) into a C source file, so
# that the lists are plain files in the repository and need no install path.
file(READ "${SRC}/filters/data/flagged_words_en.txt" EN)
file(READ "${SRC}/filters/data/flagged_words_zh.txt" ZH)
foreach(var EN ZH)
  string(REPLACE "\\" "\\\\" ${var} "${${var}}")
  string(REPLACE "\"" "\\\"" ${var} "${${var}}")
  string(REPLACE "\n" "\\n\"\n\"" ${var} "${${var}}")
endforeach()
file(WRITE "${OUT}" "/* generated from filters/data/flagged_words_*.txt by filters/embed_lists.cmake */\n"
  "const char cm_flagged_words_en[] =\n\"${EN}\";\n"
  "const char cm_flagged_words_zh[] =\n\"${ZH}\";\n")
