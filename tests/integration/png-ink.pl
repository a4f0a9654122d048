#!/usr/bin/perl
# png-ink.pl FILE RRGGBB [TOLERANCE] - how many pixels of a PNG are near a
# colour (each channel within TOLERANCE, default 40, alpha > 200)
#
# For ebbd-http.sh: it reads Chromium's screenshot itself, so that "the
# chart is drawn" is checked in the picture, not taken from the page's own
# report. Handles what Chromium writes: 8-bit RGB or RGBA, not interlaced.
use strict;
use warnings;
use Compress::Zlib qw(uncompress);

my ($file, $hex, $tol) = @ARGV;
die "usage: png-ink.pl FILE RRGGBB [TOLERANCE]\n"
    unless defined $hex && $hex =~ /^[0-9a-fA-F]{6}$/;
$tol = 40 unless defined $tol;
my @want = map { hex } unpack("(A2)3", $hex);

open(my $fh, "<:raw", $file) or die "$file: $!\n";
local $/;
my $png = <$fh>;
close($fh);
substr($png, 0, 8) eq "\x89PNG\r\n\x1a\n" or die "$file: not a PNG\n";

my ($w, $h, $depth, $type, $interlace, $idat) = (0, 0, 0, 0, 0, "");
my $pos = 8;
while ($pos + 8 <= length($png)) {
	my ($len, $tag) = unpack("N A4", substr($png, $pos, 8));
	die "$file: chunk past the end\n" if $pos + 12 + $len > length($png);
	my $data = substr($png, $pos + 8, $len);
	if ($tag eq "IHDR") {
		($w, $h, $depth, $type, undef, undef, $interlace) =
		    unpack("N N C C C C C", $data);
	} elsif ($tag eq "IDAT") {
		$idat .= $data;
	} elsif ($tag eq "IEND") {
		last;
	}
	$pos += 12 + $len;
}
die "$file: only 8-bit RGB/RGBA, not interlaced\n"
    unless $depth == 8 && ($type == 2 || $type == 6) && !$interlace;
my $bpp = $type == 6 ? 4 : 3;
my $raw = uncompress($idat);
die "$file: bad image data\n"
    unless defined $raw && length($raw) == $h * (1 + $w * $bpp);

my ($n, $stride) = (0, $w * $bpp);
my @prev = (0) x $stride;
for my $y (0 .. $h - 1) {
	my $off = $y * ($stride + 1);
	my $filter = ord(substr($raw, $off, 1));
	my @cur = unpack("C*", substr($raw, $off + 1, $stride));
	for my $i (0 .. $stride - 1) {
		my $a = $i >= $bpp ? $cur[$i - $bpp] : 0;
		my $b = $prev[$i];
		my $c = $i >= $bpp ? $prev[$i - $bpp] : 0;
		my $x = $cur[$i];
		if ($filter == 1) { $x += $a }
		elsif ($filter == 2) { $x += $b }
		elsif ($filter == 3) { $x += int(($a + $b) / 2) }
		elsif ($filter == 4) {
			my $p = $a + $b - $c;
			my ($pa, $pb, $pc) = (abs($p - $a), abs($p - $b),
			    abs($p - $c));
			$x += ($pa <= $pb && $pa <= $pc) ? $a :
			    ($pb <= $pc ? $b : $c);
		} elsif ($filter != 0) { die "$file: filter $filter\n" }
		$cur[$i] = $x & 0xff;
	}
	for (my $i = 0; $i < $stride; $i += $bpp) {
		next if $bpp == 4 && $cur[$i + 3] <= 200;
		$n++ if abs($cur[$i] - $want[0]) < $tol &&
		    abs($cur[$i + 1] - $want[1]) < $tol &&
		    abs($cur[$i + 2] - $want[2]) < $tol;
	}
	@prev = @cur;
}
print "$n\n";
