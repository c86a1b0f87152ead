#!/usr/bin/perl
# guide_blocks.pl: rewrites the generated blocks of one lab guide from what a
# run derived from its recorded timelines.  tools/guides.sh calls it; see
# there for where the recordings come from.
#
#   guide_blocks.pl GUIDE DERIVED     the guide, its blocks regenerated, on
#                                     stdout
#
# DERIVED/<variant>/ holds what the experiment derived from that variant's
# timeline.tl: timeline.txt and ladder.mmd (written by the experiment
# itself) and predictions.txt (its predictions with their evidence, as the
# run's report prints them, from the result object).
#
# A block is everything between a start marker and an end marker, each on a
# line of its own:
#
#   <!-- socklab:generated KIND variant=NAME [key=value]... -->
#   ...generated text, never edited by hand...
#   <!-- /socklab:generated -->
#
# KIND is excerpt (timeline lines), ladder (the Mermaid ladder) or
# predictions (the variant's predictions, evidence and measurements).  A
# value with spaces is quoted ("...").  The keys:
#
#   from=TEXT    excerpt: start at the first line containing TEXT (as
#                normalised, below: "client  IP 198.18.N.2.P1 >")
#   to=TEXT      excerpt: stop at the first line from there containing TEXT
#   nth=K        from= means its K-th match (default 1)
#   to-nth=K     to= means its K-th match from there (default 1)
#   hide=LIST    excerpt: leave out kernel, ss, marks, packets, calls lines
#   host=LIST    excerpt: only the lines of these hosts
#   pick=TEXTS   excerpt: only lines containing one of TEXTS, separated by
#                " | " (literal text, as from=)
#   grep=RE      excerpt: only lines matching RE (Perl); predictions: only
#                those whose description matches
#   drop=RE      the same, leaving out what matches
#   gaps=yes     excerpt: a line "  ..." where pick=, grep= or drop= left
#                lines out
#   cut=LIST     options (a packet's TCP options as [...]), tuples (a kernel
#                line's 4-tuple as [...])
#   keep-ports=LIST   ports (N or N-M) that the experiment fixes although
#                they lie in the kernel's ephemeral range
#
# Run-specific numbers are normalised so that a guide reads the same
# whatever slot or port a run drew: the slot in addresses and namespace
# names becomes N (198.19.N.2, socklab-N-server), as the guides write it
# where a learner types it, and each port the kernel chose from its
# ephemeral range (32768-60999, Linux's default) becomes P1, P2, ... in the
# order the variant's timeline first shows them, the same in every block of
# that variant.  Times stay as recorded: they are relative to the first
# packet and belong to the stored recording.
use strict;
use warnings;

my ($guide, $derived) = @ARGV;
die "usage: guide_blocks.pl GUIDE DERIVED\n" unless defined $derived;

sub fail { die "guide_blocks.pl: $guide: @_\n" }

sub slurp {
	my ($path) = @_;
	open(my $fh, '<', $path) or return undef;
	local $/;
	my $s = <$fh>;
	close($fh);
	return $s;
}

sub parse_params {
	my ($s, $lineno) = @_;
	my %p;
	while ($s =~ /\G\s*([a-z-]+)=(?:"((?:[^"\\]|\\.)*)"|(\S+))/gc) {
		my ($k, $v) = ($1, defined $2 ? $2 : $3);
		$v =~ s/\\(.)/$1/g if defined $2;
		fail("line $lineno: $k given twice") if exists $p{$k};
		$p{$k} = $v;
	}
	$s =~ /\G\s*$/gc or fail("line $lineno: cannot read the marker's "
				 . "parameters at \"" . substr($s, pos($s) // 0) . "\"");
	return \%p;
}

my %known = map { $_ => 1 } qw(variant from to nth to-nth hide host pick grep drop gaps cut
  keep-ports);

# The ports a block keeps as they are.
sub kept_ports {
	my ($spec) = @_;
	my %keep;
	for my $r (split /,/, $spec // '') {
		my ($a, $b) = $r =~ /^(\d+)(?:-(\d+))?$/ or fail("keep-ports: $r");
		$keep{$_} = 1 for $a .. ($b // $a);
	}
	return \%keep;
}

# What the run derived for one variant: its timeline lines, the order of
# its ephemeral ports, its ladder and its predictions.
my %cache;
sub variant {
	my ($name, $keep) = @_;
	my $key = "$name\0" . join(',', sort keys %$keep);
	return $cache{$key} if $cache{$key};
	my $tl = slurp("$derived/$name/timeline.txt")
	  // fail("no derived timeline for variant $name ($derived/$name/timeline.txt)");
	my @lines = grep { !/^#/ && /\S/ } split /\n/, $tl;
	my (%port, $n);
	for (@lines) {
		while (/198\.1[89]\.\d+\.\d+[.:](\d+)/g) {
			my $p = $1;
			next if $p < 32768 || $p > 60999 || $keep->{$p};
			$port{$p} //= 'P' . ++$n;
		}
	}
	return $cache{$key} = {
		lines => \@lines,
		port => \%port,
		ladder => slurp("$derived/$name/ladder.mmd"),
		predictions => slurp("$derived/$name/predictions.txt"),
	};
}

sub normalise {
	my ($s, $v) = @_;
	$s =~ s/\b(198\.1[89])\.\d+\.(\d+)(?:([.:])(\d+))?/
		"$1.N.$2" . (defined $3 ? $3 . ($v->{port}{$4} \/\/ $4) : '')/ge;
	$s =~ s/\bsocklab-\d+-/socklab-N-/g;
	return $s;
}

sub line_class {
	my ($l) = @_;
	my ($body) = $l =~ /^\s*-?\d+\.\d+\s+\S+\s+(.*)$/ or return 'other';
	return 'kernel' if $body =~ /^kernel:/;
	return 'ss' if $body =~ /^ss:/;
	return 'marks' if $body =~ /^---/;
	return 'packets' if $body =~ /^IP6? /;
	return 'calls';
}

sub cut {
	my ($l, $what) = @_;
	for (split /,/, $what // '') {
		if ($_ eq 'options') {
			$l =~ s/options \[[^\]]*\], /[...] /;
		} elsif ($_ eq 'tuples') {
			$l =~ s/(kernel: .*  )\[[^\]]*\]$/$1\[...]/;
		} else {
			fail("cut=$_: options or tuples");
		}
	}
	return $l;
}

sub find_line {
	my ($lines, $start, $text, $nth, $what) = @_;
	for my $i ($start .. $#$lines) {
		next if index($lines->[$i], $text) < 0;
		return $i if --$nth <= 0;
	}
	return -1;
}

sub excerpt {
	my ($p, $v) = @_;
	my @l = map { normalise($_, $v) } @{$v->{lines}};
	my ($a, $b) = (0, $#l);
	if (defined $p->{from}) {
		$a = find_line(\@l, 0, $p->{from}, $p->{nth} // 1);
		fail("variant $p->{variant}: no line contains from=\"$p->{from}\"")
		  if $a < 0;
	}
	if (defined $p->{to}) {
		$b = find_line(\@l, $a, $p->{to}, $p->{'to-nth'} // 1);
		fail("variant $p->{variant}: no line from there on contains "
		     . "to=\"$p->{to}\"") if $b < 0;
	}
	my %hide = map { $_ => 1 } split /,/, $p->{hide} // '';
	my %host = map { $_ => 1 } split /,/, $p->{host} // '';
	my @pick = split / \| /, $p->{pick} // '';
	my (@out, $gap);
	for my $l (@l[$a .. $b]) {
		next if $hide{line_class($l)};
		if (%host) {
			my ($h) = $l =~ /^\s*-?\d+\.\d+\s+(\S+)/;
			next unless $h && $host{$h};
		}
		if ((@pick && !grep { index($l, $_) >= 0 } @pick)
		    || (defined $p->{grep} && $l !~ /$p->{grep}/)
		    || (defined $p->{drop} && $l =~ /$p->{drop}/)) {
			$gap = 1;
			next;
		}
		push @out, '  ...' if $gap && @out && ($p->{gaps} // '') eq 'yes';
		$gap = 0;
		push @out, cut($l, $p->{cut});
	}
	fail("variant $p->{variant}: the excerpt is empty") unless @out;
	return "```\n" . join("\n", @out) . "\n```\n";
}

sub ladder {
	my ($p, $v) = @_;
	my $m = $v->{ladder}
	  // fail("no derived ladder.mmd for variant $p->{variant}");
	return "```mermaid\n" . normalise($m, $v) . "```\n";
}

# predictions.txt: a header line, then per prediction its line and the
# evidence lines indented under it, then the measurements.
sub predictions {
	my ($p, $v) = @_;
	my $t = $v->{predictions}
	  // fail("no derived predictions for variant $p->{variant}");
	my @out;
	my $keep = 1;
	for my $l (split /\n/, $t) {
		if ($l =~ /^  \[(?: ok |FAIL|skip)\] (.*)$/) {
			my $what = $1;
			$keep = (!defined $p->{grep} || $what =~ /$p->{grep}/)
			  && (!defined $p->{drop} || $what !~ /$p->{drop}/);
		} elsif ($l =~ /^  measured (\S+)/) {
			my $what = $1;
			$keep = (!defined $p->{grep} || $l =~ /$p->{grep}/)
			  && (!defined $p->{drop} || $l !~ /$p->{drop}/);
		} elsif ($l !~ /^ {9}/) {
			$keep = 1;
		}
		push @out, cut(normalise($l, $v), $p->{cut}) if $keep;
	}
	return "```\n" . join("\n", @out) . "\n```\n";
}

my $text = slurp($guide) // fail("cannot read it: $!");
my @in = split /(?<=\n)/, $text;
my ($out, $open, $lineno) = ('', undef, 0);
for my $line (@in) {
	$lineno++;
	if ($line =~ /^<!-- socklab:generated (\S+)(.*?) -->\s*$/) {
		fail("line $lineno: a block starts inside the block of line "
		     . "$open") if defined $open;
		my ($kind, $p) = ($1, parse_params($2, $lineno));
		for (keys %$p) {
			fail("line $lineno: unknown key $_") unless $known{$_};
		}
		fail("line $lineno: no variant=") unless defined $p->{variant};
		my $v = variant($p->{variant}, kept_ports($p->{'keep-ports'}));
		my $body = $kind eq 'excerpt' ? excerpt($p, $v)
		  : $kind eq 'ladder' ? ladder($p, $v)
		  : $kind eq 'predictions' ? predictions($p, $v)
		  : fail("line $lineno: unknown kind $kind "
			 . "(excerpt, ladder or predictions)");
		$out .= $line . $body;
		$open = $lineno;
		next;
	}
	if ($line =~ /^<!-- \/socklab:generated -->\s*$/) {
		fail("line $lineno: an end marker without a start") unless defined $open;
		$open = undef;
		$out .= $line;
		next;
	}
	$out .= $line unless defined $open;
}
fail("the block of line $open has no end marker") if defined $open;
print $out;
