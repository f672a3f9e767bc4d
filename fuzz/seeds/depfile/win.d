C\:\path\a.o: C:\src\a.c
  C:\x\\ y.h
