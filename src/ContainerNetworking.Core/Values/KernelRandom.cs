namespace ContainerNetworking.Values;

/// <summary>
/// Random bytes from the kernel (/dev/urandom, the pool getrandom(2) draws from) for endpoint and network ids, MAC
/// addresses and unique-local prefixes. Not <c>RandomNumberGenerator</c>: on Linux it loads OpenSSL (libssl,
/// libcrypto, openssl.cnf) on first use, milliseconds that every process pays once, and the CNI plugin is a new
/// process for every ADD.
/// </summary>
public static class KernelRandom
{
    public static void Fill(Span<byte> buffer)
    {
        using var urandom = File.OpenHandle("/dev/urandom", FileMode.Open, FileAccess.Read);
        for (var n = 0; n < buffer.Length;)
        {
            var r = RandomAccess.Read(urandom, buffer[n..], 0);
            if (r <= 0) throw new IOException("/dev/urandom returned no bytes.");
            n += r;
        }
    }

    public static byte[] GetBytes(int count)
    {
        var b = new byte[count];
        Fill(b);
        return b;
    }
}
