import Testing
@testable import Fusion

/// How the engine cuts work: GEMM tiles and sample chunks.
@Suite struct EngineLayoutTests {
    /// A call with these rows and columns (pointers are never followed by the tiling).
    func call(rows: Range<Int>, columns: Range<Int>, outputs: Int) -> GemmCall {
        let dummy = UnsafeMutablePointer<Float>(bitPattern: 64)!
        return GemmCall(
            x: dummy, ldx: 1, weight: .packed(dummy), inputs: 1, outputs: outputs, bias: nil, y: dummy, ldy: outputs,
            rows: rows, columns: columns)
    }

    @Test(arguments: [1, 2, 3, 16])
    func tilesCoverEveryCallExactlyOnce(threads: Int) {
        let calls = [
            call(rows: 0..<1, columns: 0..<768, outputs: 768),
            call(rows: 0..<1000, columns: 0..<3072, outputs: 3072),
            call(rows: 5..<17, columns: 96..<192, outputs: 768),
            call(rows: 0..<3, columns: 0..<20, outputs: 20),
        ]
        let tiles = GemmTiling.tiles(for: calls, threads: threads)
        for (index, call) in calls.enumerated() {
            var covered = [Int](repeating: 0, count: call.rows.count * call.columns.count)
            for tile in tiles where tile.call == index {
                #expect(call.rows.contains(tile.rows.lowerBound) && tile.rows.upperBound <= call.rows.upperBound)
                #expect(call.columns.contains(tile.columns.lowerBound) && tile.columns.upperBound <= call.columns.upperBound)
                for r in tile.rows {
                    for c in tile.columns {
                        covered[(r - call.rows.lowerBound) * call.columns.count + c - call.columns.lowerBound] += 1
                    }
                }
            }
            #expect(covered.allSatisfy { $0 == 1 }, "call \(index): some element covered \(covered.max()!) times or never")
        }
    }

    @Test func oneRowIsSplitAcrossThreadsByColumns() {
        let tiles = GemmTiling.tiles(for: [call(rows: 0..<1, columns: 0..<768, outputs: 768)], threads: 2)
        #expect(tiles.count >= 8, "B = 1 must still give both threads work: \(tiles.count) tiles")
        #expect(tiles.allSatisfy { $0.columns.lowerBound % 16 == 0 }, "tiles start on panel boundaries")
    }

    @Test func columnPiecesStartOnMultiplesOfTheTile() {
        #expect(GemmTiling.columnPieces(40..<200, 64) == [40..<64, 64..<128, 128..<192, 192..<200])
        #expect(GemmTiling.columnPieces(0..<0, 64).isEmpty)
    }

    @Test func chunksRespectBudgetsAndKeepSamplesInOrder() {
        let lengths = [5, 1, 9, 3, 3, 12, 2]
        let chunks = SampleChunk.split(
            samples: Array(lengths.indices), imageLengths: lengths, tokensPerFrame: 2, perStep: false,
            tokenBudget: 20, queryBudget: 100)
        #expect(chunks.map(\.samples) == [[0, 1], [2], [3, 4], [5], [6]])
        for chunk in chunks where chunk.samples.count > 1 {
            #expect(chunk.totalTokens <= 20)
        }
        #expect(chunks[0].firstRow == [0, 10])
        #expect(chunks[0].queries.map(\.tokens) == [10, 2])
        #expect(chunks[0].queries.map(\.firstRow) == [0, 10])
    }

    @Test func aSubsetOfSamplesIsCutInItsOwnOrderAndReleasedInRuns() {
        let lengths = [4, 1, 7, 2, 2, 9]
        let chunks = SampleChunk.split(
            samples: [0, 2, 3, 5], imageLengths: lengths, tokensPerFrame: 1, perStep: false, tokenBudget: 13,
            queryBudget: 100)
        #expect(chunks.map(\.samples) == [[0, 2, 3], [5]])
        #expect(chunks[0].tokens == [4, 7, 2])
        #expect(chunks[0].firstRow == [0, 4, 11])
        #expect(chunks[0].sampleRuns == [0..<1, 2..<4])
    }

    @Test func mixedChunksPutPlanBPrimeSamplesFirstAndKeepEveryBudget() {
        // Samples 1, 3, 4 run plan B′ (image-token budget 12, at most 2 of them a chunk); the others
        // plan A (X-row budget 6); 4 samples at most a chunk.
        let lengths = [2, 5, 3, 4, 6, 1, 2]
        let absorbed: Set<Int> = [1, 3, 4]
        let chunks = SampleChunk.splitMixed(
            absorbed: absorbed, samples: Array(lengths.indices), imageLengths: lengths, tokensPerFrame: 1,
            tokenBudget: 6, absorbedTokenBudget: 12, queryBudget: 4, absorbedQueryBudget: 2)
        #expect(chunks.map(\.samples) == [[1, 3, 0, 2], [4, 5, 6]])
        #expect(chunks.map(\.absorbedSamples) == [2, 1])
        #expect(chunks[0].absorbedQueries == 0..<2 && chunks[1].absorbedQueries == 0..<1)
        for chunk in chunks {
            let bTokens = chunk.tokens.prefix(chunk.absorbedSamples).reduce(0, +)
            let aTokens = chunk.tokens.dropFirst(chunk.absorbedSamples).reduce(0, +)
            #expect(bTokens <= 12 && aTokens <= 6 && chunk.samples.count <= 4 && chunk.absorbedSamples <= 2)
            #expect(chunk.samples.prefix(chunk.absorbedSamples).allSatisfy(absorbed.contains))
            #expect(!chunk.samples.dropFirst(chunk.absorbedSamples).contains(where: absorbed.contains))
        }
        // Every sample exactly once.
        #expect(chunks.flatMap(\.samples).sorted() == Array(lengths.indices))
    }

    @Test func perStepChunksHaveOneQueryPerValidFrame() {
        let chunks = SampleChunk.split(
            samples: [0, 1, 2], imageLengths: [3, 2, 4], tokensPerFrame: 3, perStep: true, tokenBudget: 1000,
            queryBudget: 5)
        #expect(chunks.map(\.samples) == [[0, 1], [2]])
        #expect(chunks[0].queries.map(\.step) == [0, 1, 2, 0, 1])
        #expect(chunks[0].queries.map(\.tokens) == [3, 6, 9, 3, 6])
        #expect(chunks[0].queries.map(\.firstRow) == [0, 0, 0, 9, 9])
        #expect(chunks[1].queries.map(\.chunks) == [1, 1, 1, 1])
    }

    @Test func attentionGroupsStayWithinTheirChunkBudget() {
        let chunk = SampleChunk(samples: [0, 1], imageLengths: [200, 70], tokensPerFrame: 1, perStep: true)
        let groups = chunk.attentionGroups(chunkBudget: 10)
        #expect(groups.first?.lowerBound == 0 && groups.last?.upperBound == chunk.queries.count)
        for (a, b) in zip(groups, groups.dropFirst()) {
            #expect(a.upperBound == b.lowerBound)
        }
        for group in groups {
            let chunks = chunk.queries[group].reduce(0) { $0 + $1.chunks }
            #expect(chunks <= 10 || group.count == 1)
        }
    }

    @Test func headGroupsHoldAtMostSixteenHeads() {
        #expect(HeadGroup.groups(heads: 8).map { [$0.first, $0.count] } == [[0, 8]])
        #expect(HeadGroup.groups(heads: 17).map { [$0.first, $0.count] } == [[0, 16], [16, 1]])
        #expect(HeadGroup.groups(heads: 32).map { [$0.first, $0.count] } == [[0, 16], [16, 16]])
    }
}
