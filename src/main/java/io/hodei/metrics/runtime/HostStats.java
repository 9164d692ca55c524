package io.hodei.metrics.runtime;

import java.util.regex.Pattern;

/**
 * Host I/O totals from Linux's {@code /proc}: disk bytes read/written by whole disks (partitions, loop, ram and
 * device-mapper devices are left out so nothing is counted twice) and network bytes received/transmitted by every
 * interface but {@code lo}. Pure parsing; the verticle reads the files without blocking.
 */
final class HostStats {
  static final String DISKSTATS = "/proc/diskstats";
  static final String NET_DEV = "/proc/net/dev";
  private static final long SECTOR_BYTES = 512;
  private static final Pattern NOT_A_WHOLE_DISK = Pattern.compile(
      "(loop|ram|dm-|sr|zram|md).*|(sd|vd|xvd|hd)[a-z]+\\d+|(nvme\\d+n\\d+|mmcblk\\d+)p\\d+");
  private static final Pattern SPACES = Pattern.compile("\\s+");

  private HostStats() {}

  /** {bytes read, bytes written} of whole disks. */
  static long[] disk(String diskstats) {
    long read = 0;
    long written = 0;
    for (String line : diskstats.split("\n")) {
      String[] f = SPACES.split(line.trim());
      if (f.length < 10 || NOT_A_WHOLE_DISK.matcher(f[2]).matches()) continue;
      read += parse(f[5]) * SECTOR_BYTES;
      written += parse(f[9]) * SECTOR_BYTES;
    }
    return new long[] {read, written};
  }

  /** {bytes received, bytes transmitted} of every interface but lo. */
  static long[] network(String netDev) {
    long received = 0;
    long transmitted = 0;
    for (String line : netDev.split("\n")) {
      int colon = line.indexOf(':');
      if (colon < 0) continue;
      String name = line.substring(0, colon).trim();
      String[] f = SPACES.split(line.substring(colon + 1).trim());
      if (name.equals("lo") || f.length < 9) continue;
      received += parse(f[0]);
      transmitted += parse(f[8]);
    }
    return new long[] {received, transmitted};
  }

  private static long parse(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
