using Deconv.Engine;

namespace Deconv.Tests.Engine;

public unsafe class TransposedStoreTests
{
    [Fact]
    public void Channels_first_rows_become_channels_last_pixels_and_nothing_around_them_is_written()
    {
        // Every channel count around the 8 x 8 register blocks, columns around whole blocks, dense and strided targets.
        foreach (var rows in new[] { 1, 2, 3, 5, 7, 8, 9, 13, 16, 17 })
        foreach (var columns in new[] { 1, 7, 8, 9, 16, 23, 64 })
        foreach (var targetStride in new[] { rows, rows + 3 })
        {
            const long sourceStride = 70;
            var source = new float[rows * sourceStride];
            for (var i = 0; i < source.Length; i++)
            {
                source[i] = i + 1;
            }

            const int guard = 32;
            var target = new float[guard + columns * targetStride + guard];
            Array.Fill(target, -1f);
            fixed (float* s = source, t = target)
            {
                TransposedStore.ToChannelsLast(s, sourceStride, rows, columns, t + guard, targetStride);
            }

            for (var i = 0; i < target.Length; i++)
            {
                var (k, c) = (Math.DivRem(i - guard, targetStride, out var lane), lane);
                var inside = i >= guard && k < columns && c < rows;
                var expected = inside ? source[c * sourceStride + k] : -1f;
                Assert.True(expected == target[i], $"rows {rows}, columns {columns}, stride {targetStride}: target[{i}] is {target[i]}, expected {expected}");
            }
        }
    }

    [Fact]
    public void Phase_runs_interleave_8_values_of_each_phase_and_write_nothing_around_them()
    {
        if (!System.Runtime.Intrinsics.X86.Avx.IsSupported)
        {
            return; // the child processes without AVX run the pixel path's other interleave (ConvTransposePlanTests)
        }

        foreach (var count in new[] { 8, 16, 32, 64 })
        foreach (var phaseStride in new long[] { 8, 13, 96 })
        {
            var phases = new float[count * phaseStride];
            for (var i = 0; i < phases.Length; i++)
            {
                phases[i] = i + 1;
            }

            const int guard = 32;
            const float bias = 0.25f;
            var target = new float[guard + 8 * count + guard];
            Array.Fill(target, -1f);
            fixed (float* p = phases, t = target)
            {
                TransposedStore.PhaseRuns(p, phaseStride, count, bias, t + guard);
            }

            for (var i = 0; i < target.Length; i++)
            {
                var inside = i >= guard && i < guard + 8 * count;
                var (value, phase) = Math.DivRem(i - guard, count);
                var expected = inside ? phases[phase * phaseStride + value] + bias : -1f;
                Assert.True(expected == target[i], $"count {count}, phase stride {phaseStride}: target[{i}] is {target[i]}, expected {expected}");
            }
        }
    }
}
