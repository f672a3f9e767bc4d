build/foo.o: foo.c foo.h \
  bar.h baz.h
