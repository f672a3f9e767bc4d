foo.o: \
  bar.h baz.h\
  a\ b.h c\#d.h $$e.h

bar.h:
baz.h:
