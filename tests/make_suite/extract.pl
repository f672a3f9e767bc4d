#!/usr/bin/env perl
# Usage: extract.pl MAKE_TESTS_DIR SCRATCH_DIR CATEGORY/NAME...
#
# Reads the cases of GNU make's own test suite (MAKE_TESTS_DIR/scripts/...,
# Perl files calling run_make_test and friends) without running make: the
# functions those files call are defined here again, and each call that would
# run make prints one JSON line instead, with everything needed to replay it
# elsewhere. tests/make_suite.rs replays each case with make and with
# ggninja --make.
#
# A script runs in its own scratch directory, as under make's driver (which
# runs in tests/, with makefiles under work/CATEGORY/), so its Perl setup
# code (touch, utouch, create_file, unlink, mkdir, open(> $makefile)) acts on
# real files. Each case records a snapshot of that directory: files with
# their contents, modes and times relative to the moment of the call. Files
# make itself would have written in earlier cases are not there: every case
# starts from the script's setup alone.
#
# A line: {"script", "case", "line", "args" (words after `make`), "status"
# (the exit code the suite expects, as a wait status), "env" (extraENV),
# "files": [{"path", "data" (each byte one character, U+0000 to U+00FF), "mode",
# "mtime" (seconds relative to the call)}], "dirs", "links": [{"path",
# "target"}]}. The current directory's path appears as @PWD@ (#PWD# in the
# suite): the replaying side puts each tree's own path there.
#
# The names the suite's scripts use (variables and functions) are package
# globals on purpose: the scripts are not `strict` and read them as such.

use warnings;
use Cwd qw(getcwd);
use File::Path qw(make_path remove_tree);
use File::Find ();
use JSON::PP ();
use Text::ParseWords qw(shellwords);
use Time::HiRes ();

my ($tests_dir, $scratch, @scripts) = @ARGV;
defined $scratch or die "usage: extract.pl MAKE_TESTS_DIR SCRATCH_DIR CATEGORY/NAME...\n";
$tests_dir = Cwd::abs_path($tests_dir);
my $json = JSON::PP->new->ascii->canonical;

# What make's driver would have found out about this system, fixed so that
# every script takes its Unix, GNU make 4.3 branches.
our $port_type = 'UNIX';
our $osname = 'linux';
our $vos = 0;
our $pathsep = '/';
our $workdir = 'work';
our $scriptdir = 'scripts';
our $make_path = 'make';
our $make_name = 'make';
our $mkpath = 'make';
our $perl_name = 'perl';
our $sh_name = '/bin/sh';
our $is_posix_sh = 1;
our $parallel_jobs = 1;
our $cwdpath = '@PWD@';
our $CMD_rmfile = 'rm -f';
our $ERR_no_such_file = 'No such file or directory';
our $ERR_read_only_file = 'Permission denied';
our $ERR_unreadable_file = 'Permission denied';
our $ERR_nonexe_file = 'Permission denied';
our $ERR_exe_dir = 'Permission denied';
our %FEATURES = map { $_ => 1 } qw(target-specific order-only second-expansion
  else-if shortest-stem undefine oneshell nocomment grouped-target
  extra-prereqs archives jobserver output-sync check-symlink load);
our %CONFIG_FLAGS = (USE_SYSTEM_GLOB => 'no');
our (%extraENV, $makefile, $old_makefile, $description, $details);
our ($testname, $tmp_filename, $log_filename, $num_of_tmpfiles, $num_of_logfiles);
our ($test_passed, $tests_run, $tests_passed) = (1, 0, 0);
my ($case, $script) = (0, '');

sub get_config { return $CONFIG_FLAGS{$_[0]} // '' }

sub num_suffix { my $n = shift; return $n > 1 ? '.' . ($n - 1) : '' }

sub get_tmpfile {
  $num_of_tmpfiles += !$_[0];
  return $tmp_filename . num_suffix($num_of_tmpfiles);
}

sub get_logfile {
  $num_of_logfiles += !$_[0];
  return $log_filename . num_suffix($num_of_logfiles);
}

# The placeholders of make's driver; #HELPER# is make's own helper script,
# run from the fetched sources (never copied here).
sub subst_make_string {
  local $_ = shift;
  $makefile and s/#MAKEFILE#/$makefile/g;
  s/#MAKEPATH#/$mkpath/g;
  s/#MAKE#/$make_name/g;
  s/#PERL#/$perl_name/g;
  s/#PWD#/$cwdpath/g;
  s/#HELPER#/$perl_name $tests_dir\/thelp.pl/g;
  return $_;
}

sub touch {
  for my $f (@_) {
    open(my $fh, '>>', $f) or warn "touch $f: $!\n";
    print $fh "\n";
    close($fh);
  }
  return @_;
}

sub utouch {
  my $off = shift;
  touch(@_);
  for my $f (@_) {
    my @s = stat($f);
    utime($s[8] + $off, $s[9] + $off, $f);
  }
  return @_;
}

sub create_file {
  my ($name, @lines) = @_;
  open(my $fh, '>', $name) or warn "create_file $name: $!\n";
  print $fh @lines;
  close($fh);
}

sub rmfiles { return unlink(@_) }
sub remove_directory_tree { remove_tree($_[0]); return 1 }

sub create_dir_tree {
  my ($base, %tree) = @_;
  remove_tree($base);
  make_path($base);
  while (my ($path, $what) = each %tree) {
    if ($what eq 'DIR') { make_path("$base/$path") }
    elsif ($what =~ /^FILE:(.*)/s) { create_file("$base/$path", "$1\n") }
    elsif ($what =~ /^LINK:(.*)/s) { symlink("$base/$1", "$base/$path") }
  }
}

# Outcomes are for make's driver to compare: here every case "passes".
sub compare_output { ++$tests_run; ++$tests_passed; return 1 }
sub compare_dir_tree { return 1 }
sub read_file_into_string {
  local $/;
  open(my $fh, '<', $_[0]) or return '';
  return scalar(<$fh>) // '';
}
sub error { warn "$script: $_[0]" }

sub run_make_test {
  my ($text, $options, $answer, $status) = @_;
  if (!defined $text) {
    $makefile = $old_makefile // die "run_make_test(undef) before a makefile\n";
  } else {
    $makefile //= get_tmpfile();
    $text .= "\n" if $text ne '' && $text !~ /\n$/;
    create_file($makefile, subst_make_string($text));
  }
  run_make_with_options($makefile, $options, get_logfile(), $status, undef, caller);
  compare_output();
  $old_makefile = $makefile;
  $makefile = undef;
}

sub run_make_with_options {
  my ($file, $options, $log, $status, $timeout, @call) = @_;
  @call = caller unless @call;
  my @args;
  push @args, '-f', $file if $file;
  push @args, ref $options ? @$options : shellwords($options // '');
  record({
    script => $script,
    case => $case++,
    line => $call[2] + 0,
    args => \@args,
    status => ($status // 0) + 0,
    env => { map { ($_ => "$extraENV{$_}") } keys %extraENV },
    snapshot(),
  });
  %extraENV = ();
  return 1;
}

sub record { print $json->encode($_[0]), "\n" }

# Every file, directory and symlink under the current directory.
sub snapshot {
  my (@files, @dirs, @links);
  my $now = Time::HiRes::time();
  File::Find::find({ no_chdir => 1, wanted => sub {
    my $path = $File::Find::name;
    return if $path eq '.';
    $path =~ s{^\./}{};
    if (-l $path) {
      push @links, { path => $path, target => readlink($path) };
    } elsif (-d $path) {
      push @dirs, $path;
    } elsif (-f $path) {
      my @s = Time::HiRes::stat($path);
      push @files, { path => $path, data => read_file_into_string($path),
                     mode => $s[2] & 07777, mtime => $s[9] - $now };
    }
  }}, '.');
  return (files => [sort { $a->{path} cmp $b->{path} } @files],
          dirs => [sort @dirs], links => \@links);
}

# Runs one script of the suite in a fresh scratch directory.
sub extract {
  my ($name) = @_;
  my $dir = "$scratch/" . ($name =~ s{/}{_}gr);
  remove_tree($dir);
  make_path("$dir/$workdir/" . ($name =~ s{/[^/]*$}{}r));
  chdir($dir) or die "chdir $dir: $!\n";
  ($script, $case, $testname) = ($name, 0, $name);
  ($num_of_tmpfiles, $num_of_logfiles, $old_makefile) = (0, 0, undef);
  $tmp_filename = "$workdir/$name.mk";
  $log_filename = "$workdir/$name.log";
  %extraENV = ();
  $makefile = get_tmpfile();
  my $ok = do "$tests_dir/scripts/$name";
  warn "$name: $@" if $@;
  chdir($tests_dir);
  remove_tree($dir);
}

$scratch = Cwd::abs_path($scratch);
extract($_) for @scripts;
