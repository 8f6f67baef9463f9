#!/bin/sh
# Makes the small tagged audio files the tag tests and the browser tests play (committed, so the
# tests need no encoder): three 4-second tones, two MP3s with ID3v2 tags and a cover picture, one
# Ogg Opus with Vorbis comments and no picture. Needs ffmpeg. Run from guest/.
set -eu
out=src/features/host/lib/__tests__/fixtures
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cover() { # cover NAME COLOR: a 96 px square JPEG
  ffmpeg -v error -y -f lavfi -i "color=c=$2:s=96x96:d=1" -frames:v 1 -q:v 8 "$tmp/$1.jpg"
}
tone() { # tone HZ: 4 s of a sine at -12 dB, 22.05 kHz mono
  echo "sine=frequency=$1:sample_rate=22050:duration=4,volume=0.5"
}

cover red '#c0392b'
cover blue '#2e86c1'

ffmpeg -v error -y -f lavfi -i "$(tone 330)" -i "$tmp/red.jpg" -map 0:a -map 1:v \
  -c:a libmp3lame -b:a 24k -ac 1 -c:v copy -disposition:v attached_pic -id3v2_version 3 \
  -metadata title='Morning Light' -metadata artist='The Fixtures' -metadata album='Test Pressings' \
  -metadata:s:v title='Album cover' -metadata:s:v comment='Cover (front)' "$out/01-morning-light.mp3"

ffmpeg -v error -y -f lavfi -i "$(tone 440)" -i "$tmp/blue.jpg" -map 0:a -map 1:v \
  -c:a libmp3lame -b:a 24k -ac 1 -c:v copy -disposition:v attached_pic -id3v2_version 3 \
  -metadata title='Second Wind' -metadata artist='The Fixtures' -metadata album='Test Pressings' \
  -metadata:s:v title='Album cover' -metadata:s:v comment='Cover (front)' "$out/02-second-wind.mp3"

ffmpeg -v error -y -f lavfi -i "$(tone 550)" -c:a libopus -b:a 16k -ac 1 \
  -metadata title='Third Time Lucky' -metadata artist='Ana & The Loops' -metadata album='B-Sides' \
  "$out/03-third-time-lucky.ogg"

ls -l "$out"
